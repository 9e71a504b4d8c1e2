/**
 * The one lease compare-and-act pair, shared by every Redis lease of the platform (a conversation's
 * migration lease, a run's delivery lease, the conversation lock). A lease is a key whose value names
 * its holder; a holder whose lease expired and was taken by another must not extend or delete the new
 * one, so both operations compare the value and act in one script.
 */

/** KEYS[1]: the lease. ARGV[1]: the holder's value, ARGV[2]: the new time to live in ms. Returns 1 when renewed, 0 when no longer held. */
export const LEASE_RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** KEYS[1]: the lease. ARGV[1]: the holder's value. Returns 1 when released, 0 when no longer held. */
export const LEASE_RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
