"""The Catena-X PCF aspect model's own facts, shared by the writer and the checker.

From the ``io.catenax.pcf`` SAMM aspect model of Eclipse Tractus-X (9.0.0 and 10.0.0;
see :mod:`cfp_engine.labels.catenax` for the source and licence): the versions, the names
of the cross-sectoral standards, the UN M49 regions, the id pattern and the numeric ranges.
:mod:`cfp_engine.labels.catenax` writes payloads within them and
:mod:`cfp_engine.verify.catenax` checks payloads against them.
"""

from __future__ import annotations

import re

#: The versions the engine writes and checks: the latest release first, then the release
#: candidate.
MODEL_VERSIONS = ("9.0.0", "10.0.0")
LATEST_RELEASE = MODEL_VERSIONS[0]
#: The DQRs of both versions and the worst value of their scale ("between 1 and 5").
CATENAX_DQR_FIELDS, CATENAX_DQR_WORST = ("technologicalDQR", "temporalDQR", "geographicalDQR"), 5
SPEC_VERSION_URN = "urn:io.catenax.pcf:datamodel:version:"
#: PACT v3 (and v2) names of the cross-sectoral standards -> Catena-X names.
STANDARDS = {
    "ISO14067": "ISO 14067",
    "ISO Standard 14067": "ISO 14067",
    "GHGP-Product": "GHG Protocol Product",
    "GHG Protocol Product standard": "GHG Protocol Product",
    "ISO14040-44": "ISO 14040-44",
    "ISO Standard 14044": "ISO 14040-44",
    "PAS2050": "PAS 2050",
    "PEF": "PEF",
    "PACT-1.0": "PACT-1.0",
    "PACT-2.0": "PACT-2.0",
    "PACT-3.0": "PACT-3.0",
}
STANDARDS_V10 = (
    "ISO 14067",
    "Pathfinder v1",
    "PACT-1.0",
    "Pathfinder v2",
    "PACT-2.0",
    "Pathfinder v3",
    "PACT-3.0",
    "GHG Protocol Product",
    "PAS 2050",
    "ISO 14040-44",
    "PEF",
    "Other",
)
#: UN M49 region of each ISO 3166-1 country (UN Statistics Division, "Standard country or
#: area codes for statistical use"), at the level the model's enum uses: sub-regions, with
#: Latin America and the Caribbean and Sub-Saharan Africa as one region each.
M49_REGIONS = {
    "Australia and New Zealand": "AU CC CX HM NF NZ",
    "Central Asia": "KG KZ TJ TM UZ",
    "Eastern Asia": "CN HK JP KP KR MN MO TW",
    "Eastern Europe": "BG BY CZ HU MD PL RO RU SK UA",
    "Latin America and the Caribbean": "AG AI AR AW BB BL BO BQ BR BS BV BZ CL CO CR CU CW "
    "DM DO EC FK GD GF GP GS GT GY HN HT JM KN KY LC MF MQ MS MX NI PA PE PR PY SR SV SX TC "
    "TT UY VC VE VG VI",
    "Melanesia": "FJ NC PG SB VU",
    "Micronesia": "FM GU KI MH MP NR PW UM",
    "Northern Africa": "DZ EG EH LY MA SD TN",
    "Northern America": "BM CA GL PM US",
    "Northern Europe": "AX DK EE FI FO GB GG IE IM IS JE LT LV NO SE SJ",
    "Polynesia": "AS CK NU PF PN TK TO TV WF WS",
    "South-eastern Asia": "BN ID KH LA MM MY PH SG TH TL VN",
    "Southern Asia": "AF BD BT IN IR LK MV NP PK",
    "Southern Europe": "AD AL BA ES GI GR HR IT ME MK MT PT RS SI SM VA",
    "Sub-Saharan Africa": "AO BF BI BJ BW CD CF CG CI CM CV DJ ER ET GA GH GM GN GQ GW IO KE "
    "KM LR LS MG ML MR MU MW MZ NA NE NG RE RW SC SH SL SN SO SS ST SZ TD TF TG TZ UG YT ZA "
    "ZM ZW",
    "Western Asia": "AE AM AZ BH CY GE IL IQ JO KW LB OM PS QA SA SY TR YE",
    "Western Europe": "AT BE CH DE FR LI LU MC NL",
}
REGION_OF_COUNTRY = {c: r for r, codes in M49_REGIONS.items() for c in codes.split()}
#: A PCF id as the model takes it: a UUID, bare or as a ``urn:uuid:`` URN.
UUID = re.compile(r"(urn:uuid:)?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
#: The model's "not applicable" for a required text that only applies to mass balancing.
NOT_APPLICABLE = "not applicable"
#: Inclusive ranges of numbers (None: open end); emission positions go by name.
RANGES = {
    "declaredUnitAmount": (0.0, None),  # and > 0, checked apart
    "productMassPerDeclaredUnit": (0.0, None),
    "version": (0.0, None),
    "exemptedEmissionsPercent": (0.0, 10.0),
    "primaryDataShare": (0.0, 100.0),
    **{name: (1.0, float(CATENAX_DQR_WORST)) for name in CATENAX_DQR_FIELDS},
}


def range_of(name: str) -> tuple[float | None, float | None] | None:
    """The model's inclusive range of a numeric field (None: open end), by its name."""
    if name in RANGES:
        return RANGES[name]
    if name.startswith(("programCertificationShare", "productVerificationShare")):
        return (0.0, 100.0)
    if name.endswith("IncludingBiogenicUptake"):  # T1 may be negative, but not packaging's
        return (0.0, None) if name.startswith("packaging") else (None, None)
    if name.endswith(("Emissions", "ExcludingBiogenicUptake", "CarbonContent", "ContentTotal")):
        return (0.0, None)
    if name.endswith(("Uptake", "Removals")):
        return (None, 0.0)
    return None
