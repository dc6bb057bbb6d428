/**
 * Tiny logos for the renderer and end-to-end tests, as base64 so the tests need
 * no image tools: a 24×12 PNG (two coloured halves) and a 30×30 baseline JPEG.
 */
import type { ImageData } from '../../server/documents/document-model.js';

export const pngLogo = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAABgAAAAMCAIAAAD3UuoiAAAAHElEQVR4nGM4oSFHEIloXCKIGEYNGjVo1CB8CADJFS/Qg926uQAAAABJRU5ErkJggg==',
  'base64',
);

export const jpegLogo = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCAAeAB4DASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD2Kisz/hI9D/6DOnf+BSf40f8ACR6H/wBBnTv/AAKT/GvxL2FX+V/cd/tqf8y+806KzP8AhI9D/wCgzp3/AIFJ/jR/wkeh/wDQZ07/AMCk/wAaPYVf5X9we2p/zL7z57ooor9IPgAooooA/9k=',
  'base64',
);

/** The model's image for each, as the pipeline would fill it in. */
export function pngImage(): ImageData {
  return { bytes: new Uint8Array(pngLogo), contentType: 'image/png', widthPx: 24, heightPx: 12 };
}

export function jpegImage(): ImageData {
  return { bytes: new Uint8Array(jpegLogo), contentType: 'image/jpeg', widthPx: 30, heightPx: 30 };
}
