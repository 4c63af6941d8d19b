"""政策案例问答: cited answers over Chinese policy-case reports."""

__version__ = "0.1.0"

# Bump when parsing changes: documents parsed by an older parser are re-parsed on the next ingest.
PARSER_VERSION = "2"
