import { FILE_LIMITS } from './limits.ts';
import { FileRefused } from './zip.ts';

/**
 * One pass over the bytes of a JSON text, before JSON.parse builds anything: nesting depth, keys per
 * object and the number of values stay within the limits, or the file is refused saying which one.
 * Only structure is judged here; JSON.parse still rejects what is not JSON.
 */
export function scanJson(bytes: Uint8Array, limits: { maxBytes: number; maxDepth: number; maxKeysPerObject: number; maxValues: number } = FILE_LIMITS.archive): void {
  if (bytes.length > limits.maxBytes) {
    throw new FileRefused(`文件有${(bytes.length / 1024 / 1024).toFixed(1)}MB，超过了${limits.maxBytes / 1024 / 1024}MB的上限`);
  }
  /** Per open container: -1 for an array, else the keys seen so far in the object. */
  const stack: number[] = [];
  let values = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
      continue;
    }
    switch (b) {
      case 0x22: // "
        inString = true;
        break;
      case 0x7b: // {
      case 0x5b: // [
        stack.push(b === 0x7b ? 0 : -1);
        values++;
        if (stack.length > limits.maxDepth) {
          throw new FileRefused(`文件的嵌套层数超过了${limits.maxDepth}层的上限，不是可以导入的文件`);
        }
        break;
      case 0x7d: // }
      case 0x5d: // ]
        stack.pop();
        break;
      case 0x3a: {
        // : — one more key in the innermost object
        const top = stack.length - 1;
        if (top >= 0 && stack[top]! >= 0) {
          stack[top]! += 1;
          if (stack[top]! > limits.maxKeysPerObject) {
            throw new FileRefused(`文件中有一个对象的键超过了${limits.maxKeysPerObject}个的上限，不是可以导入的文件`);
          }
        }
        break;
      }
      case 0x2c: // ,
        values++;
        if (values > limits.maxValues) {
          throw new FileRefused(`文件中的数据项超过了${limits.maxValues}个的上限，不是可以导入的文件`);
        }
        break;
    }
  }
}
