-- Wake relays in other processes when outbox rows are committed: one notice per statement,
-- delivered at commit and folded within a transaction. Relays still poll; this only removes
-- the poll's latency from every job (the API's submissions are relayed by the scheduler).
CREATE FUNCTION pricing_outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('pricing_outbox', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION pricing_outbox_notify();
