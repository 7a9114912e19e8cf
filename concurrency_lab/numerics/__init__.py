"""Pure numerics and formatting shared by the report and advise (below both): statistics of rounds, and
how figures are written."""
