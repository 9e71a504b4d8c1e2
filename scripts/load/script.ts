// What simulated users say: short conversations of small talk and questions, some of which make the
// agent call a tool (the dev model calls current_time on "time", search_knowledge on "policy"/"manual").

const OPENERS = ['Hi there!', 'Hello, I have a couple of questions.', 'Good morning.', 'Hey, quick question.'];
const PLAIN = [
  'Can you explain how your service works in a few sentences?',
  'Thanks, that helps. Could you say it more briefly?',
  'I would like to change the email address on my account.',
  'My order arrived damaged, what should I do next?',
  'Do you ship to Spain and Portugal?',
  '¿Puedes responder en español, por favor?',
  'Give me three tips to get started.',
];
const TOOL = [
  'What time is it right now?',
  'What is your refund policy? Please check the policy documents.',
  'Search the manual for how to reset my password.',
  'What is the date today?',
];
const CLOSERS = ['Great, thank you!', 'That is all for now, bye.', 'Perfect, thanks for the help.'];

export interface Turn {
  text: string;
  /** True when the dev model is expected to call a tool for it. */
  tool: boolean;
}

const pick = <T>(xs: readonly T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)]!;

/** One conversation: an opener, 1–4 questions (about a third of them tool-triggering), a closer. */
export function conversation(rnd: () => number = Math.random): Turn[] {
  const turns: Turn[] = [{ text: pick(OPENERS, rnd), tool: false }];
  const middle = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < middle; i++) turns.push(rnd() < 0.35 ? { text: pick(TOOL, rnd), tool: true } : { text: pick(PLAIN, rnd), tool: false });
  turns.push({ text: pick(CLOSERS, rnd), tool: false });
  return turns;
}
