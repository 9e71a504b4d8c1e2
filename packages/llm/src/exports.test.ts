// The production export of @parley/llm carries no dev model: its control routes ship only through `@parley/llm/dev-server`.
import { describe, expect, it } from 'vitest';
import * as llm from './index.js';

describe('@parley/llm exports', () => {
  it('holds the model client and token counter, never the dev model server', () => {
    expect(Object.keys(llm)).toContain('createModelClient');
    expect(Object.keys(llm).filter((k) => /dev/i.test(k))).toEqual([]);
  });
});
