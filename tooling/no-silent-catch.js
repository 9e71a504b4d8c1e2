/**
 * `.catch(() => {})` with nothing in it drops a failure without a word. An empty handler is allowed
 * only when a comment inside it says why dropping is right (someone else awaits the same promise,
 * the failure is reported elsewhere, ...), the way core `no-empty` treats empty blocks.
 */
const isFunction = (node) => node && (node.type === 'ArrowFunctionExpression' || node.type === 'FunctionExpression');

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Disallow .catch handlers that silently drop the error without a comment saying why' },
    messages: { silent: 'A silent catch hides the failure: log or count it, or put a comment inside saying why dropping it is right.' },
    schema: [],
  },
  create(context) {
    const source = context.sourceCode;
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier' || callee.property.name !== 'catch') return;
        const handler = node.arguments[0];
        if (!isFunction(handler)) return;
        const body = handler.body;
        const empty = body.type === 'BlockStatement' ? body.body.length === 0 : body.type === 'Identifier' && body.name === 'undefined';
        if (empty && source.getCommentsInside(body).length === 0) context.report({ node: handler, messageId: 'silent' });
      },
    };
  },
};
