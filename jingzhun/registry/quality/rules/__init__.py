"""The data-quality rules, one module per group of the catalogue (domain §5), each a ``RuleSet``."""
