/**
 * A pool of worker threads rendering document models, one per core by default.
 * With no threads configured, rendering happens on the main thread.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { DocumentModel } from './document-model.js';
import { renderBoth, type RenderedFiles } from './render-both.js';

export type ModelRenderer = (model: DocumentModel) => Promise<RenderedFiles>;

const ownFile = fileURLToPath(import.meta.url);
// The worker is a sibling with this file's own extension: .ts under tsx, .js from dist/.
const workerFile = path.join(path.dirname(ownFile), `render-worker${path.extname(ownFile)}`);

export class RenderPool {
  private readonly piscina: Piscina | undefined;

  constructor(threads: number) {
    this.piscina =
      threads > 0
        ? new Piscina({
            filename: workerFile,
            minThreads: threads,
            maxThreads: threads,
            // Workers inherit the loader flags (tsx) the service runs with.
            execArgv: process.execArgv,
          })
        : undefined;
  }

  readonly render: ModelRenderer = async (model) => {
    if (!this.piscina) return renderBoth(model);
    const rendered = (await this.piscina.run(model)) as RenderedFiles;
    return rendered;
  };

  async destroy(): Promise<void> {
    await this.piscina?.destroy();
  }
}
