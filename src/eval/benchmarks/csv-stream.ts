import { badInput } from "../../core/errors.js";

/** One CSV record with the line on which it starts (a quoted field may span several lines). */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/**
 * A streaming RFC 4180 parser: comma-separated fields, double-quoted fields may hold commas, line breaks
 * and doubled quotes (""), records end at LF or CRLF. Fed chunk by chunk, so a large file is never whole
 * in memory. Blank lines are skipped (they carry no record).
 */
export async function* parseCsv(chunks: AsyncIterable<string>, file: string): AsyncGenerator<CsvRecord> {
  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let field = "";
  let quoted = false; // inside a quoted field
  let quoteSeen = false; // a quote inside a quoted field: either the closing quote or the first of ""
  let fieldStarted = false; // the current record has any content (so an empty line is not a record)
  let pendingCarriageReturn = false;
  let first = true;

  const endRecord = (): CsvRecord | undefined => {
    const record = fieldStarted || fields.length > 0 ? { fields: [...fields, field], line: recordLine } : undefined;
    fields = [];
    field = "";
    fieldStarted = false;
    return record;
  };

  for await (let chunk of chunks) {
    if (first) {
      if (chunk.startsWith("\ufeff")) chunk = chunk.slice(1);
      first = false;
    }
    for (let index = 0; index < chunk.length; index++) {
      const char = chunk[index];
      if (pendingCarriageReturn) {
        pendingCarriageReturn = false;
        if (char === "\n") continue; // the LF of a CRLF already ended the record
      }
      if (quoted) {
        if (quoteSeen) {
          quoteSeen = false;
          if (char === '"') {
            field += '"';
            continue;
          }
          quoted = false; // that quote closed the field; fall through to handle this character
        } else if (char === '"') {
          quoteSeen = true;
          continue;
        } else {
          if (char === "\n") line++;
          field += char;
          continue;
        }
      }
      if (char === ",") {
        fields.push(field);
        field = "";
        fieldStarted = true;
      } else if (char === "\n" || char === "\r") {
        const record = endRecord();
        if (record) yield record;
        line++;
        recordLine = line;
        pendingCarriageReturn = char === "\r";
      } else if (char === '"') {
        if (field.length > 0) throw badInput(`a quote inside an unquoted field (quote the whole field and double inner quotes)`, { file, line });
        quoted = true;
        fieldStarted = true;
      } else {
        field += char;
        fieldStarted = true;
      }
    }
  }
  if (quoted && !quoteSeen) throw badInput("a quoted field is not closed before the end of the file", { file, line: recordLine });
  const record = endRecord();
  if (record) yield record;
}
