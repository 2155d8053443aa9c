export { encodeSignedList, ListBodyBuilder } from './encode.js';
export { ListEncodeError, ListError, type ListEncodeProblem, type ListProblem } from './errors.js';
export {
  listHeaderSchema,
  listScopeSchema,
  listStatuses,
  type ListEntry,
  type ListHeader,
  type ListHeaderInput,
  type ListStatus,
} from './format.js';
export {
  checkListAudience,
  decodeEntry,
  entryLength,
  leftoverOrShort,
  listFrame,
  malformed as malformedList,
  parseListHeader,
  trustedSigner,
  verifySignedList,
  type EntryReadOptions,
  type ListFrame,
  type VerifiedList,
  type VerifyOptions,
} from './verify.js';
export {
  chunkOf,
  defaultChunkBytes,
  describeFile,
  fileName,
  manifestSchema,
  planFetch,
  sha256Hex,
  signManifest,
  verifyManifest,
  type ListManifest,
  type ManifestFile,
  type ManifestVerifyOptions,
} from './manifest.js';
