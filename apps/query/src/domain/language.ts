import type { KnowledgeLanguage } from '@parley/contracts';

// Function words are the cheapest reliable signal between English and Spanish: every sentence has
// several, and the two lists barely overlap (no shared entries below).
const ENGLISH = new Set(
  'the and of to is are was were be have has that this with for not you your it on at by from which what how when can do does will would'.split(' '),
);
const SPANISH = new Set(
  'el la los las del que y en es son fue por para con una uno unos unas se su sus lo le al como pero más cuando dónde donde qué cómo puedo puede hay está están este esta'.split(
    ' ',
  ),
);

/** English or Spanish by function words (Spanish punctuation and ñ count too); `fallback` when undecided. */
export function detectLanguage(text: string, fallback: KnowledgeLanguage = 'english'): KnowledgeLanguage {
  // The opening 20 kB decide; a megabyte would cost time and say nothing more.
  const sample = text.slice(0, 20_000).toLowerCase();
  let en = 0;
  let es = 0;
  for (const word of sample.match(/[\p{L}]+/gu) ?? []) {
    if (ENGLISH.has(word)) en++;
    else if (SPANISH.has(word)) es++;
  }
  es += (sample.match(/[¿¡ñ]/g) ?? []).length * 2;
  if (en === es) return fallback;
  return en > es ? 'english' : 'spanish';
}

/** Intl locale for sentence segmentation. */
export function localeOf(language: KnowledgeLanguage): string {
  return language === 'spanish' ? 'es' : 'en';
}
