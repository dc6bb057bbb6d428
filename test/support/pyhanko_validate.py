"""
Validates every signature embedded in a PDF with pyHanko, offline, and prints
one JSON report per signature (a JSON array on stdout).

    python3 pyhanko_validate.py --trust ca.pem [--trust other.pem] signed.pdf

pyHanko is the independent check of Sigillo's PAdES output: it recomputes the
digests, verifies the CMS and the certificate path to the given trust anchors,
and analyses what each later revision changed.
"""

import argparse
import json
import sys

try:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import KeyUsageConstraints, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
except ImportError as error:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        f"pyHanko is not available to {sys.executable} ({error}).\n"
        "Install it with: pip install pyHanko\n"
    )
    sys.exit(3)


def validation_context(trust_roots):
    # Offline on purpose: the test PKI publishes no CRL or OCSP, and a test must
    # not depend on the network. Soft-fail accepts missing revocation data.
    return ValidationContext(
        trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail"
    )


def enum_name(value):
    return None if value is None else value.name


def iso(value):
    return None if value is None else value.isoformat()


def report(embedded, trust_roots):
    status = validate_pdf_signature(
        embedded,
        signer_validation_context=validation_context(trust_roots),
        ts_validation_context=validation_context(trust_roots),
        # Qualified signatures carry nonRepudiation, e-seals often only
        # digitalSignature: either one is a signing certificate.
        key_usage_settings=KeyUsageConstraints(
            key_usage={"non_repudiation", "digital_signature"},
            match_all_key_usages=False,
        ),
    )
    timestamp = status.timestamp_validity
    return {
        "fieldName": embedded.field_name,
        "intact": bool(status.intact),
        "valid": bool(status.valid),
        "trusted": bool(status.trusted),
        "coverage": enum_name(status.coverage),
        "modificationLevel": enum_name(status.modification_level),
        "docmdpOk": status.docmdp_ok,
        "signingTime": iso(status.signer_reported_dt),
        "timestampPresent": timestamp is not None,
        "timestampValid": (
            None
            if timestamp is None
            else bool(timestamp.intact and timestamp.valid and timestamp.trusted)
        ),
        "timestampTime": None if timestamp is None else iso(timestamp.timestamp),
        "signerSubject": status.signing_cert.subject.human_friendly,
        "trustProblem": (
            None if status.trust_problem_indic is None else str(status.trust_problem_indic)
        ),
        "bottomLine": bool(status.bottom_line),
        "summary": status.summary(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trust", action="append", required=True, help="PEM or DER trust anchor")
    parser.add_argument("pdf")
    args = parser.parse_args()

    trust_roots = [load_cert_from_pemder(path) for path in args.trust]
    reports = []
    with open(args.pdf, "rb") as file:
        reader = PdfFileReader(file)
        for embedded in reader.embedded_signatures:
            try:
                reports.append(report(embedded, trust_roots))
            except Exception as error:  # a broken signature is a finding, not a crash
                reports.append(
                    {
                        "fieldName": embedded.field_name,
                        "intact": False,
                        "valid": False,
                        "trusted": False,
                        "bottomLine": False,
                        "error": f"{type(error).__name__}: {error}",
                    }
                )
    json.dump(reports, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
