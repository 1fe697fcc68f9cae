"""The agency map moved to :mod:`gateway.policy.agencies` (the signer rule uses it too)."""

from gateway.policy.agencies import (  # noqa: F401
    EXTERNAL,
    NONE,
    SHIPPED_AGENCIES,
    UNKNOWN,
    Agency,
    AgencyMap,
    load_agencies,
    parse_agencies,
)
