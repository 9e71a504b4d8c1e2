import { describe, expect, it } from 'vitest';
import { detectLanguage } from './language.js';

describe('detectLanguage', () => {
  it('tells English from Spanish', () => {
    expect(detectLanguage('How long does it take to get my money back for a return?')).toBe('english');
    expect(detectLanguage('¿Cuánto tarda el reembolso de una devolución?')).toBe('spanish');
    expect(detectLanguage('Los pedidos se envían desde Madrid y llegan en tres días.')).toBe('spanish');
  });
  it('falls back when there is no signal', () => {
    expect(detectLanguage('Kubernetes HPA KEDA', 'spanish')).toBe('spanish');
    expect(detectLanguage('')).toBe('english');
  });
});
