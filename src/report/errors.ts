/** A report file given to `tinyedge report` that cannot be used: the file is named, the reason is one line. */
import { InputError } from '../errors.js';

export class ReportFileError extends InputError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}
