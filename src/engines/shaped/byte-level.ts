/**
 * GPT-2's byte-level alphabet: byte-level BPE vocabularies (GPT-2, Qwen, Llama 3, o200k) write each byte
 * of a token's UTF-8 text as one printable character, so a token's vocabulary string is never raw text:
 * " me" is "Ġme", "\n" is "Ċ". Bytes that are printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for
 * themselves; the other 68 bytes, in order, become U+0100, U+0101, ...
 */
const BYTE_TO_CHAR: readonly string[] = (() => {
    const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    const table: string[] = [];
    let next = 0x100;
    for (let b = 0; b < 256; b++) table.push(String.fromCodePoint(printable(b) ? b : next++));
    return table;
})();

const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The byte-level string of `text` (its UTF-8 bytes, one alphabet character each). */
export function toByteLevel(text: string): string {
    let out = "";
    for (const b of Buffer.from(text, "utf8")) out += BYTE_TO_CHAR[b];
    return out;
}

/** The text a byte-level string stands for, or undefined if it is not one (or not valid UTF-8). */
export function fromByteLevel(piece: string): string | undefined {
    const bytes: number[] = [];
    for (const c of piece) {
        const b = CHAR_TO_BYTE.get(c);
        if (b === undefined) return undefined;
        bytes.push(b);
    }
    const text = Buffer.from(bytes).toString("utf8");
    return toByteLevel(text) === piece ? text : undefined;
}
