/** Handing a result blob from a return path to the caller waiting for it, for both result transports. */
import type { Logger } from 'pino';
import type { RpcResult } from './types.js';
import { decodeResult } from './wire/rpc.js';

/** How much of a malformed blob goes into the log line. */
const LOGGED_BLOB_CHARS = 500;

/** Decodes a result and hands it on; a malformed blob or a throwing handler is logged, never thrown. */
export function deliverResult(blob: string, onResult: (result: RpcResult) => void, logger: Logger, key: string): void {
  const decoded = decodeResult(blob);
  if ('malformed' in decoded) {
    logger.warn({ key, reason: decoded.malformed, blob: blob.slice(0, LOGGED_BLOB_CHARS) }, 'skipped a malformed RPC result');
    return;
  }
  try {
    onResult(decoded);
  } catch (error) {
    logger.error({ err: error, rpcMessageId: decoded.rpcMessageId }, 'the RPC result handler threw');
  }
}
