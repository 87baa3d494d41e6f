"""Information quality keeps no tables of its own: conflicts, completeness and suggestions are
read from the facts and the catalog (``selectors``); resolving a conflict verifies a fact."""
