"""Signed revocation lists (spec/chained.md, AIP-REV-*)."""

from __future__ import annotations

import pytest

from aip import AIPError, Resolver, TrustStore, generate_key, sign_revocation_list, verify_revocation_list
from aip._revocation import RevocationPolicy

NOW = 1767225600


def test_round_trip_and_checks() -> None:
    issuer = generate_key()
    resolver = Resolver(TrustStore({}, [issuer.identity]))
    jws = sign_revocation_list(issuer, issued_at=NOW - 10, next_update=NOW + 3600,
                               revoked_ids=["abcd"], revoked_keys=[("aip:web:x.example", "k1")])
    lst = verify_revocation_list(jws, resolver=resolver, now=NOW)
    assert lst.revoked_ids == {"abcd"}
    policy = RevocationPolicy((lst,), required=True)
    policy.check(root=issuer.identity, revocation_ids=["ef01"], keys=[])
    with pytest.raises(AIPError) as exc:
        policy.check(root=issuer.identity, revocation_ids=["ef01", "abcd"], keys=[])
    assert exc.value.code == "aip_key_revoked"
    with pytest.raises(AIPError) as exc:
        policy.check(root=issuer.identity, revocation_ids=[], keys=[("aip:web:x.example", "k1")])
    assert exc.value.code == "aip_key_revoked"
    with pytest.raises(AIPError) as exc:
        RevocationPolicy((), required=True).check(root=issuer.identity, revocation_ids=[], keys=[])
    assert exc.value.code == "aip_revocation_stale"


def test_stale_untrusted_and_forged_lists_fail_closed() -> None:
    issuer, other = generate_key(), generate_key()
    resolver = Resolver(TrustStore({}, [issuer.identity]))
    stale = sign_revocation_list(issuer, issued_at=NOW - 7200, next_update=NOW - 61)
    with pytest.raises(AIPError) as exc:
        verify_revocation_list(stale, resolver=resolver, now=NOW)
    assert exc.value.code == "aip_revocation_stale"
    with pytest.raises(AIPError) as exc:
        verify_revocation_list(sign_revocation_list(other, issued_at=NOW, next_update=NOW + 60),
                               resolver=resolver, now=NOW)
    assert exc.value.code == "aip_identity_unresolvable"
    head, body, sig = sign_revocation_list(issuer, issued_at=NOW, next_update=NOW + 60).split(".")
    forged = ".".join([head, body, sig[:-2] + ("AA" if sig[-2:] != "AA" else "BA")])
    with pytest.raises(AIPError) as exc:
        verify_revocation_list(forged, resolver=resolver, now=NOW)
    assert exc.value.code in ("aip_signature_invalid", "aip_token_malformed")
