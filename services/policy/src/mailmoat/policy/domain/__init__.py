"""Policy domain logic: the outbound rules and their evaluation, pure and clock-free."""
