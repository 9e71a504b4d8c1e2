import { describe, expect, it } from 'vitest';
import { countChatTokens, countMessageTokens, countTokens, encodingForModel } from './tokens.js';

describe('token counting', () => {
  it('counts known values in both encodings', () => {
    expect(countTokens('hello world', 'gpt-4')).toBe(2);
    expect(countTokens('hello world', 'gpt-4o')).toBe(2);
    expect(countTokens('', 'gpt-4')).toBe(0);
    // The encodings differ on non-English text: o200k is the newer, denser one.
    const spanish = '¿Qué hora es en Ciudad de México? Necesito saberlo rápido.';
    expect(countTokens(spanish, 'gpt-4o')).toBeLessThan(countTokens(spanish, 'gpt-3.5-turbo'));
  });

  it('chooses the encoding by model name, o200k for unknown models', () => {
    expect(encodingForModel('gpt-4')).toBe('cl100k_base');
    expect(encodingForModel('gpt-4-turbo-2024-04-09')).toBe('cl100k_base');
    expect(encodingForModel('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(encodingForModel('gpt-4o-mini')).toBe('o200k_base');
    expect(encodingForModel('gpt-4.1')).toBe('o200k_base');
    expect(encodingForModel('o3-mini')).toBe('o200k_base');
    expect(encodingForModel('openai/gpt-4')).toBe('cl100k_base');
    expect(encodingForModel('llama3.1:8b')).toBe('o200k_base');
    expect(encodingForModel(undefined)).toBe('o200k_base');
  });

  it('adds the chat-format overhead OpenAI documents (3 per message, 3 to prime the reply)', () => {
    const system = { role: 'system' as const, content: 'You are a helpful assistant.' };
    const user = { role: 'user' as const, content: 'Hello!' };
    expect(countMessageTokens(system, 'gpt-4')).toBe(3 + 1 + countTokens(system.content, 'gpt-4'));
    expect(countChatTokens([system, user], 'gpt-4')).toBe(19);
  });

  it('counts tool calls and tool results', () => {
    const call = { id: 'call_1', name: 'search_knowledge', arguments: '{"query":"refund policy"}' };
    const withCall = countMessageTokens({ role: 'assistant', content: '', toolCalls: [call] });
    expect(withCall).toBe(3 + 1 + 3 + countTokens(call.name) + countTokens(call.arguments));
    expect(countMessageTokens({ role: 'tool', content: 'ok', toolCallId: 'call_1' })).toBe(3 + 1 + 1 + 1);
  });

  it('counts special-token text as plain text instead of throwing', () => {
    expect(countTokens('a <|endoftext|> b', 'gpt-4')).toBeGreaterThan(3);
  });

  it('is fast enough to run on every saved message', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(50);
    const started = performance.now();
    for (let i = 0; i < 500; i++) countTokens(`${text}${i}`, 'gpt-4o');
    expect((performance.now() - started) / 500).toBeLessThan(2);
  });
});
