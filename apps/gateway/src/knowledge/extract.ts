/**
 * Text out of an allowed document (document-types.ts), with the title the document gives itself.
 * PDF by unpdf (Mozilla's pdf.js built for servers, no worker or canvas), DOCX by mammoth (raw text,
 * paragraphs kept), HTML by html-to-text (block structure kept as line breaks, scripts and styles
 * dropped). Markdown stays Markdown: the query service chunks on its headings.
 *
 * A document that yields no text is refused here (400 naming `file`), so nothing is stored for an
 * encrypted PDF, a corrupt one, or a scan without a text layer.
 */
import { ActionError } from '@parley/contracts';
import { convert } from 'html-to-text';
import mammoth from 'mammoth';
import { extractText, getDocumentProxy, getMeta } from 'unpdf';
import type { DocumentKind } from './document-types.js';

export interface Extracted {
  /** The document's own title (PDF metadata, HTML `<title>`, the first Markdown heading), when it has one. */
  title: string | undefined;
  body: { text: string } | { markdown: string };
}

function unreadable(message: string, reason: string): ActionError {
  return new ActionError('invalid_payload', message, { details: { fields: ['file'], reason } });
}

export async function extractDocument(kind: DocumentKind, bytes: Buffer): Promise<Extracted> {
  const out = await extractByKind(kind, bytes);
  const text = 'text' in out.body ? out.body.text : out.body.markdown;
  if (text.trim().length === 0)
    throw unreadable(kind === 'pdf' ? 'the PDF has no text layer (a scanned image?); run it through OCR first' : `the ${kind} document has no text`, 'no_text');
  return out;
}

async function extractByKind(kind: DocumentKind, bytes: Buffer): Promise<Extracted> {
  switch (kind) {
    case 'pdf':
      return extractPdf(bytes);
    case 'docx':
      return extractDocx(bytes);
    case 'html':
      return extractHtml(bytes.toString('utf8'));
    case 'markdown': {
      const markdown = bytes.toString('utf8');
      return { title: /^#\s+(.+?)\s*#*\s*$/m.exec(markdown)?.[1], body: { markdown } };
    }
    case 'text':
      return { title: undefined, body: { text: bytes.toString('utf8') } };
  }
}

async function extractPdf(bytes: Buffer): Promise<Extracted> {
  let pdf;
  try {
    // A copy: pdf.js may take ownership of the array it is given.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'PasswordException') throw unreadable('the PDF is encrypted with a password; upload an unprotected copy', 'encrypted');
    throw unreadable('the PDF is corrupt or not a PDF pdf.js can read; export it again and retry', 'corrupt');
  }
  try {
    const { text } = await extractText(pdf, { mergePages: false });
    const { info } = await getMeta(pdf);
    const title = typeof info.Title === 'string' && info.Title.trim() ? info.Title.trim() : undefined;
    // Pages become paragraphs: a passage never runs from one page's end into the next page's header.
    return { title, body: { text: text.map((page) => page.trim()).join('\n\n') } };
  } catch {
    throw unreadable('the PDF is corrupt (its pages cannot be read); export it again and retry', 'corrupt');
  } finally {
    await pdf.loadingTask.destroy();
  }
}

async function extractDocx(bytes: Buffer): Promise<Extracted> {
  try {
    const { value } = await mammoth.extractRawText({ buffer: bytes });
    return { title: undefined, body: { text: value } };
  } catch {
    throw unreadable('the DOCX document is corrupt (not a Word document mammoth can read); save it again and retry', 'corrupt');
  }
}

function extractHtml(html: string): Extracted {
  const rawTitle = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  const title = rawTitle ? convert(rawTitle, { wordwrap: false }).trim() || undefined : undefined;
  const text = convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'title', format: 'skip' },
      ...(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const).map((selector) => ({ selector, options: { uppercase: false } })),
      { selector: 'table', options: { uppercaseHeaderCells: false } },
    ],
  });
  return { title, body: { text } };
}
