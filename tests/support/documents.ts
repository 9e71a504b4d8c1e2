/** Knowledge documents made in the test (no binary fixtures to keep in git): PDFs with pdf-lib, DOCX with docx. */
import { Document, Packer, Paragraph } from 'docx';
import { PDFDocument, PDFHexString, StandardFonts } from 'pdf-lib';

/** A PDF with a title in its metadata and one line of text per page. */
export async function makePdf(title: string, pages: string[]): Promise<Buffer> {
  // Fixed dates: the same title and pages make the same bytes, whenever they are made (an upload's
  // Idempotency-Key compares bodies, and two calls a second apart would otherwise differ).
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setCreationDate(new Date(0));
  doc.setModificationDate(new Date(0));
  doc.setTitle(title);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const text of pages) doc.addPage().drawText(text, { x: 50, y: 700, font, size: 12 });
  return Buffer.from(await doc.save());
}

/** A PDF whose only page has a drawing and no text, like a scan without OCR. */
export async function makeImageOnlyPdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawRectangle({ x: 50, y: 50, width: 200, height: 200 });
  return Buffer.from(await doc.save());
}

/**
 * A PDF protected by a user password: an /Encrypt dictionary (standard handler, revision 2) whose
 * password hashes match no password, so a reader must ask for one, as for any protected file.
 */
export async function makeEncryptedPdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage().drawText('classified', { x: 50, y: 700, font });
  const ctx = doc.context;
  ctx.trailerInfo.Encrypt = ctx.register(
    ctx.obj({ Filter: 'Standard', V: 1, R: 2, O: PDFHexString.of('a'.repeat(64)), U: PDFHexString.of('b'.repeat(64)), P: -4 }),
  );
  ctx.trailerInfo.ID = ctx.obj([PDFHexString.of('c'.repeat(32)), PDFHexString.of('c'.repeat(32))]);
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

export async function makeDocx(paragraphs: string[]): Promise<Buffer> {
  const doc = new Document({ sections: [{ children: paragraphs.map((p) => new Paragraph(p)) }] });
  return Packer.toBuffer(doc);
}

export const PDF_TYPE = 'application/pdf';
export const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
