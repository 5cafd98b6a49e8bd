/**
 * Characters that look like a verdict's brackets or letters but are not ASCII. The reward never reads
 * them as a verdict; it only uses this "loose" view to notice that an answer holds something a human,
 * another parser, or an NFKC-normalising pipeline would take for one, and then calls the answer malformed.
 * NFKC already folds full-width forms (［ Ａ) and mathematical letters (𝐀); the tables below add what NFKC
 * keeps apart: CJK and mathematical brackets, and Greek / Cyrillic / small-capital letters.
 */
const OPENING_BRACKETS = "【〔〖〘〚⟦⦋⁅❲⟬〈《「『⸨";
const CLOSING_BRACKETS = "】〕〗〙〛⟧⦌⁆❳⟭〉》」』⸩";
const LETTERS: Record<string, string> = {
  "\u0391": "A", // Greek capital alpha
  "\u0410": "A", // Cyrillic capital a
  "\u0430": "a", // Cyrillic small a
  "\u1D00": "a", // small capital a
  "\u0392": "B", // Greek capital beta
  "\u0412": "B", // Cyrillic capital ve
  "\u0299": "b", // small capital b
  "\u0435": "e", // Cyrillic small ie
  "\u0456": "i", // Cyrillic small byelorussian-ukrainian i
};
/** Invisible characters a verdict could hide behind. */
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u2060-\u2064\uFEFF]/g;

const LOOSE_CHARACTER = new RegExp(`[${OPENING_BRACKETS}${CLOSING_BRACKETS}${Object.keys(LETTERS).join("")}]`, "gu");

/** The answer as a careless reader would see it: NFKC, look-alike brackets doubled to "[[" / "]]", look-alike letters folded to ASCII, invisible characters dropped. */
export function looseView(text: string): string {
  return text
    .normalize("NFKC")
    .replace(INVISIBLE, "")
    .replace(LOOSE_CHARACTER, (character) => {
      if (OPENING_BRACKETS.includes(character)) return "[[";
      if (CLOSING_BRACKETS.includes(character)) return "]]";
      return LETTERS[character] ?? character;
    });
}
