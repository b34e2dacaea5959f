"""Local doubles of the outside world (never deployed): the field-service API, accounting APIs, the stack."""
