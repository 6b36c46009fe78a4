import type { ApiError, ErrorCode } from '@shared/contract';

function sentence(message: string): string {
  const trimmed = message.trim();
  if (!trimmed) return '';
  return /[.!?…)]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** User-facing text for an API error. Exhaustive over the closed set of error codes. */
export function describeError(error: ApiError): string {
  const message = sentence(error.message);
  const code: ErrorCode = error.code;
  switch (code) {
    case 'BAD_INPUT':
      return message ? `That was not accepted: ${message}` : 'That was not accepted.';
    case 'NOT_FOUND':
      return message ? `${message} It may have been deleted or moved.` : 'It no longer exists. It may have been deleted or moved.';
    case 'NO_MODEL':
      return message
        ? `${message} Choose a model in the model picker, or put a .gguf file in your models folder.`
        : 'No model is available. Put a .gguf file in your models folder and choose it in the model picker.';
    case 'MODEL_INVALID':
      return `This model file cannot be used. ${message} Download it again or choose another file.`.trim();
    case 'MODEL_TOO_LARGE':
      return `${message} Choose a smaller quantization (for example Q4_K_M instead of Q8_0) or a smaller model.`.trim();
    case 'MODEL_LOAD_FAILED':
      return `The model could not be loaded. ${message}`.trim();
    case 'BUSY':
      return 'A reply is still being written. Wait for it to finish, or press Stop in its conversation.';
    case 'GENERATION_FAILED':
      return `The reply failed. ${message}`.trim();
    case 'CONTEXT_FULL':
      return `${message} Start a new chat, raise the context size, or choose "drop the oldest messages" in Settings.`.trim();
    case 'STORAGE_FULL':
      return 'The disk is full or read-only, so nothing could be saved. Free some space and try again.';
    case 'STORAGE_FAILED':
      return `Saving failed. ${message}`.trim();
    case 'UNAUTHORIZED':
      return 'This page is not authorised. Open the link printed by `npm run web`, it contains the access token.';
    case 'INTERNAL':
      return message || 'Something went wrong.';
    default: {
      const unreachable: never = code;
      return `Unexpected error (${String(unreachable)}).`;
    }
  }
}
