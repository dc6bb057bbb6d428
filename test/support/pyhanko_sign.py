#!/usr/bin/env python3
"""
pyHanko as an independent signer and validator for Sigillo's signature tests.

Reads a JSON list of operations on stdin and writes a JSON list of results
(one per operation, in order) on stdout, so a test pays for one interpreter
start and one pyHanko import however many files it needs.

Operations:
  {"op": "sign", "input", "output", "pkcs12", "passphrase", "field",
   "box": [x1, y1, x2, y2] | null, "page": 0, "timestamp": {"certificate",
   "key", "chain": [...]} | null}
      Appends a PAdES (ETSI.CAdES.detached) signature in an incremental
      update; a box makes it visible, with pyHanko's own appearance stream.
  {"op": "timestamp-document", "input", "output", "timestamp": {...}}
      Appends a document time-stamp (ETSI.RFC3161), PAdES-LTA style.
  {"op": "append-page-content", "input", "output"}
      Appends, in an incremental update, a content stream drawing a red
      square on the first page: a change no signature policy allows.
  {"op": "set-title", "input", "output", "title"}
      Rewrites the document information /Title in an incremental update.
  {"op": "validate", "input", "trustRoots": [...]}
      pyHanko's verdict on every signature of the file.
  {"op": "validate-cms", "input", "trustRoots": [...]}
      pyHanko's verdict on every signer of an attached CMS (.p7m, DER).
"""

import asyncio
import json
import logging
import sys

from asn1crypto import cms
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import (
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.generic_cms import async_validate_cms_signature
from pyhanko_certvalidator import ValidationContext


def timestamper_for(spec):
    if not spec:
        return None
    return timestamps.DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(spec['certificate']),
        tsa_key=load_private_key_from_pemder(spec['key'], passphrase=None),
        certs_to_embed=[load_cert_from_pemder(c) for c in spec['chain']],
    )


def sign(op):
    signer = signers.SimpleSigner.load_pkcs12(
        op['pkcs12'], passphrase=op['passphrase'].encode()
    )
    timestamper = timestamper_for(op.get('timestamp'))
    box = op.get('box')
    field_spec = fields.SigFieldSpec(
        sig_field_name=op['field'],
        on_page=op.get('page', 0),
        box=tuple(box) if box else None,
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=op['field'],
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm='sha256',
    )
    with open(op['input'], 'rb') as source:
        writer = IncrementalPdfFileWriter(source)
        with open(op['output'], 'wb') as target:
            signers.sign_pdf(
                writer,
                metadata,
                signer=signer,
                timestamper=timestamper,
                new_field_spec=field_spec,
                output=target,
            )
    return {'ok': True}


def timestamp_document(op):
    with open(op['input'], 'rb') as source:
        writer = IncrementalPdfFileWriter(source)
        with open(op['output'], 'wb') as target:
            signers.PdfTimeStamper(timestamper_for(op['timestamp'])).timestamp_pdf(
                writer, 'sha256', output=target
            )
    return {'ok': True}


def append_page_content(op):
    with open(op['input'], 'rb') as source:
        writer = IncrementalPdfFileWriter(source)
        stream = generic.StreamObject(stream_data=b'q 1 0 0 rg 100 100 200 200 re f Q\n')
        writer.add_stream_to_page(0, writer.add_object(stream))
        with open(op['output'], 'wb') as target:
            writer.write(target)
    return {'ok': True}


def set_title(op):
    with open(op['input'], 'rb') as source:
        writer = IncrementalPdfFileWriter(source)
        info_ref = writer.trailer.raw_get('/Info')
        info_ref.get_object()[generic.NameObject('/Title')] = generic.TextStringObject(
            op['title']
        )
        writer.mark_update(info_ref)
        with open(op['output'], 'wb') as target:
            writer.write(target)
    return {'ok': True}


def bottom_line(status, level):
    if hasattr(status, 'bottom_line'):
        return status.bottom_line
    # A document time-stamp's status has no bottom line: the same judgment by
    # hand (docmdp_ok is None when the time-stamp covers the whole file).
    return (
        status.intact
        and status.valid
        and status.trusted
        and (status.docmdp_ok is not False or level is None)
    )


async def validate(op):
    roots = [load_cert_from_pemder(path) for path in op['trustRoots']]
    results = []
    with open(op['input'], 'rb') as source:
        reader = PdfFileReader(source, strict=False)
        for embedded in reader.embedded_signatures:
            context = ValidationContext(
                trust_roots=roots, allow_fetching=False, revocation_mode='soft-fail'
            )
            is_timestamp = embedded.sig_object_type == '/DocTimeStamp'
            try:
                if is_timestamp:
                    status = await async_validate_pdf_timestamp(
                        embedded, validation_context=context
                    )
                else:
                    status = await async_validate_pdf_signature(
                        embedded, signer_validation_context=context
                    )
            except Exception as error:  # noqa: BLE001 - reported, not raised
                results.append({'field': embedded.field_name, 'error': repr(error)})
                continue
            level = status.modification_level
            ts = None if is_timestamp else status.timestamp_validity
            results.append(
                {
                    'field': embedded.field_name,
                    'intact': bool(status.intact),
                    'valid': bool(status.valid),
                    'trusted': bool(status.trusted),
                    'coverage': status.coverage.name if status.coverage else None,
                    'modificationLevel': level.name if level is not None else None,
                    'docmdpOk': status.docmdp_ok,
                    'bottomLine': bool(bottom_line(status, level)),
                    'signingCertificateSerial': format(
                        status.signing_cert.serial_number, 'X'
                    ),
                    'timestamp': (
                        {
                            'intact': bool(ts.intact),
                            'valid': bool(ts.valid),
                            'trusted': bool(ts.trusted),
                            'time': ts.timestamp.isoformat(),
                        }
                        if ts is not None
                        else None
                    ),
                }
            )
    return results


async def validate_cms(op):
    roots = [load_cert_from_pemder(path) for path in op['trustRoots']]
    with open(op['input'], 'rb') as source:
        signed_data = cms.ContentInfo.load(source.read())['content']
    results = []
    # pyHanko validates the first SignerInfo: give it each signer in turn.
    for signer_info in signed_data['signer_infos']:
        single = signed_data.copy()
        single['signer_infos'] = cms.SignerInfos([signer_info])
        context = ValidationContext(
            trust_roots=roots, allow_fetching=False, revocation_mode='soft-fail'
        )
        status = await async_validate_cms_signature(
            single, validation_context=context
        )
        results.append(
            {
                'intact': bool(status.intact),
                'valid': bool(status.valid),
                'trusted': bool(status.trusted),
                'bottomLine': bool(status.intact and status.valid and status.trusted),
                'signingCertificateSerial': format(
                    status.signing_cert.serial_number, 'X'
                ),
            }
        )
    return results


OPERATIONS = {
    'sign': sign,
    'timestamp-document': timestamp_document,
    'append-page-content': append_page_content,
    'set-title': set_title,
    'validate': validate,
    'validate-cms': validate_cms,
}


def main():
    # pyHanko logs each failed check with a traceback; the results say it all.
    logging.disable(logging.CRITICAL)
    operations = json.load(sys.stdin)
    results = []
    for op in operations:
        action = OPERATIONS.get(op['op'])
        if action is None:
            raise ValueError(f"unknown operation {op['op']}")
        result = action(op)
        results.append(asyncio.run(result) if asyncio.iscoroutine(result) else result)
    json.dump(results, sys.stdout)


if __name__ == '__main__':
    main()
