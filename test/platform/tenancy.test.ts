import { expect } from 'chai';
import { User } from '../../server/access/model.js';
import { runInTenant, TenancyError } from '../../server/platform/tenancy.js';
import { newTenant } from '../support/http.js';

describe('tenancy by construction', () => {
  it('refuses a tenant-owned query made outside any tenant', async () => {
    let failure: unknown;
    try {
      await User.find({}).exec();
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(TenancyError);
  });

  it('scopes find, count, update and aggregate to the current tenant', async () => {
    const first = await newTenant();
    const second = await newTenant();
    const inFirst = await runInTenant(first.organisation._id, () => User.find().exec());
    expect(inFirst.map((user) => user.organisationId.toString())).to.deep.equal([
      first.organisation._id.toString(),
    ]);
    const updated = await runInTenant(first.organisation._id, () =>
      User.updateMany({}, { name: 'Rinominato' }).exec(),
    );
    expect(updated.modifiedCount).to.equal(1);
    const secondAdmin = await runInTenant(second.organisation._id, () => User.findOne().exec());
    expect(secondAdmin?.name).to.equal('Amministratore');
    const aggregated = await runInTenant(second.organisation._id, () =>
      User.aggregate<{ _id: null; count: number }>([
        { $group: { _id: null, count: { $sum: 1 } } },
      ]).exec(),
    );
    expect(aggregated[0]?.count).to.equal(1);
  });

  it("keeps look-ups and writes by id within the tenant (they skip the tenant filter for FerretDB's sake)", async () => {
    const first = await newTenant();
    const second = await newTenant();
    const otherAdmin = await runInTenant(second.organisation._id, () => User.findOne().exec());
    const id = otherAdmin?._id;
    expect(id).to.not.equal(undefined);
    const asFirst = <T>(work: () => Promise<T>) => runInTenant(first.organisation._id, work);
    expect(await asFirst(() => User.findById(id).exec())).to.equal(null);
    expect(await asFirst(() => User.findOne({ _id: id }).lean().exec())).to.equal(null);
    expect(await asFirst(() => User.find({ _id: id }).exec())).to.deep.equal([]);
    expect(await asFirst(() => User.findById(id).select({ name: 1 }).exec())).to.equal(null);
    const updated = await asFirst(() =>
      User.updateOne({ _id: id }, { $set: { name: 'Dirottato' } }).exec(),
    );
    expect(updated.modifiedCount).to.equal(0);
    const replaced = await asFirst(() =>
      User.findOneAndUpdate(
        { _id: id },
        { $set: { name: 'Dirottato' } },
        { returnDocument: 'after' },
      ).exec(),
    );
    expect(replaced).to.equal(null);
    const deleted = await asFirst(() => User.deleteOne({ _id: id }).exec());
    expect(deleted.deletedCount).to.equal(0);
    const still = await runInTenant(second.organisation._id, () => User.findById(id).exec());
    expect(still?.name).to.equal('Amministratore');
    // The tenant's own record is found and changed by id as before.
    const own = await asFirst(() => User.findOne().exec());
    const renamed = await asFirst(() =>
      User.findOneAndUpdate(
        { _id: own?._id },
        { $set: { name: 'Segretario' } },
        { returnDocument: 'after' },
      ).exec(),
    );
    expect(renamed?.name).to.equal('Segretario');
  });

  it('fills in the tenant on create and refuses writing into another tenant', async () => {
    const first = await newTenant();
    const second = await newTenant();
    const created = await runInTenant(first.organisation._id, () =>
      User.create({ name: 'Nuovo Utente', email: 'nuovo@comune.example', roles: ['segreteria'] }),
    );
    expect(created.organisationId.toString()).to.equal(first.organisation._id.toString());
    const many = await runInTenant(first.organisation._id, () =>
      User.insertMany([{ name: 'Terzo Utente', email: 'terzo@comune.example', roles: ['legal'] }]),
    );
    expect(many[0]?.organisationId.toString()).to.equal(first.organisation._id.toString());
    let failure: unknown;
    try {
      await runInTenant(first.organisation._id, () =>
        User.create({
          organisationId: second.organisation._id,
          name: 'Infiltrato',
          email: 'infiltrato@comune.example',
          roles: ['admin'],
        }),
      );
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(TenancyError);
  });
});
