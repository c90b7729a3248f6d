"""How big a flag's rules may be, for the server to accept them.

The engine evaluates whatever it is given (a snapshot file or an Unleash state may come
from anywhere), so these limits bind only rules written to a Shipwise server: through
the admin API, the CLI and the Unleash import, checked by ``engine.validation``. They
are generous for people and keep one flag's rules small enough that every SDK, browser
and database holds them comfortably. Lengths count characters (Python ``len``).

Unleash's own defaults are lower (30 strategies per flag and environment, 30
constraints, 250 values per constraint), so a state exported from Unleash fits.
"""

from __future__ import annotations

MAX_STRATEGIES_PER_FLAG = 50
"""Strategies in one environment's rules."""

MAX_CONSTRAINTS = 50
"""Constraints in one strategy, and in one segment."""

MAX_SEGMENTS_PER_STRATEGY = 10
"""Segments one strategy refers to."""

MAX_VALUES = 1_000
"""Values in one constraint or variant override, and items in a list parameter
(``userIds``, ``IPs``, ``hostNames``). More belong in a segment or a context field."""

MAX_VALUE_LENGTH = 1_000
"""One constraint value (a regex included), override value or list-parameter item."""

MAX_PARAMETERS = 20
"""Parameters of one strategy (the built-in strategies read at most three)."""

MAX_PARAMETER_LENGTH = 100_000
"""One strategy parameter's text (a comma-separated list of up to ``MAX_VALUES``)."""

MAX_NAME_LENGTH = 100
"""Context field names (``contextName``, ``stickiness``), variant and parameter names."""

MAX_TITLE_LENGTH = 200
"""A strategy's title."""

MAX_VARIANTS = 100
"""Variants of a flag, and of one strategy."""

MAX_OVERRIDES = 50
"""Overrides of one variant."""

MAX_PAYLOAD_LENGTH = 10_000
"""A variant payload's value (its JSON text, for a ``json`` payload)."""

MAX_PAYLOAD_DEPTH = 32
"""Nesting of arrays and objects in a ``json`` payload."""

MAX_DEPENDENCY_VARIANTS = 100
"""Variants a dependency on a parent flag lists."""
