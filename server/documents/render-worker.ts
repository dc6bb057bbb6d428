/**
 * Runs in a worker thread of the render pool: the two renderers are pure CPU
 * work, so they go to other cores and leave the event loop free for requests.
 */
import type { DocumentModel } from './document-model.js';
import { renderBoth } from './render-both.js';

export default function render(model: DocumentModel) {
  return renderBoth(model);
}
