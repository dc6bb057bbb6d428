import { expect } from 'chai';
import { call } from '../support/http.js';

interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { requestBody?: { content: Record<string, { schema: unknown }> }; security?: unknown[] }
    >
  >;
}

describe('API description', () => {
  it('serves an OpenAPI 3 document built from the validation schemas', async () => {
    const response = await call<OpenApiDocument>('GET', '/openapi.json');
    expect(response.status).to.equal(200);
    expect(response.body.openapi).to.match(/^3\./);
    const createUser = response.body.paths['/api/v1/admin/users']?.post;
    expect(createUser, 'POST /api/v1/admin/users is described').to.not.equal(undefined);
    expect(createUser?.security).to.deep.equal([{ bearerAuth: [] }]);
    const schema = JSON.stringify(createUser?.requestBody?.content['application/json']?.schema);
    expect(schema).to.contain('NewUser');
    expect(response.body.paths['/api/v1/admin/users/{userId}/tokens']).to.have.property('post');
    expect(response.body.paths['/readyz']?.get?.security).to.equal(undefined);
  });

  it('serves a browsable page at /docs', async () => {
    const response = await call<string>('GET', '/docs/');
    expect(response.status).to.equal(200);
    expect(response.contentType).to.contain('text/html');
    expect(response.body).to.contain('swagger-ui');
  });
});
