"""The domain: records, money, periods, errors and the input tables' declarations. No I/O, no pandas logic."""
