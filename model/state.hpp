// The reference model's state (contract 3, 4, 5): the fixture's accounts and repositories, every
// token the model saw created with the fields it learned, every secret ever issued, the JWTs and
// login_2fa_tokens it saw issued, and the last instant it was told. Pure data, no clock: the
// oracle (oracle.hpp) is the only writer. Flat vectors, one string arena and flat hash indexes
// keep a copy down to a few memcpys, since checkers copy states millions of times; searches that
// backtrack use the undo journal (mark / rollback) instead.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/fixture.hpp"
#include "model/flat_index.hpp"
#include "model/rfc3339.hpp"
#include "model/scope.hpp"

namespace patrol::model {

inline constexpr std::uint32_t kNoIndex = 0xFFFFFFFFu;
// Marks an absent instant in the compact records (microseconds since the epoch otherwise).
inline constexpr std::int64_t kNoTime = INT64_MIN;

// Answer to "has this expired at the time of the exchange?" given the clock skew tolerance.
enum class Tri : std::uint8_t { kNo, kYes, kMaybe };

// Whether a JWT came from a password (session) or from a PAT (contract 4).
enum class JwtKind : std::uint8_t { kSession, kPatDerived };

// What the model assumes about tokens that existed before its first exchange.
enum class Baseline : std::uint8_t {
  kEmpty,   // none: every token was created in an exchange the model judged (reference server)
  kUnknown  // accounts may hold tokens it never saw (a live account): a listing's count tells
            // how many, and such tokens are adopted as they are shown to their owner
};

// A read-only view of one token the model knows; string views point into the state.
struct TokenView {
  std::uint32_t index = kNoIndex;
  std::string_view uuid;
  std::string_view owner;
  std::string_view label;
  std::string_view secret;
  Scope scope = Scope::kPublicRead;  // effective scope (contract 3.3)
  bool scopes_absent = false;        // the 201 carried no `scopes` (A14)
  bool is_active = false;
  bool deleted = false;
  bool used = false;     // authenticated at least once (contract 3.8)
  bool adopted = false;  // existed before the model's first exchange (Baseline::kUnknown)
  Timestamp created_at;
  std::optional<Timestamp> expires_at;
  std::optional<Timestamp> last_used;  // latest non-null value a response showed

  // True when expires_at is set and not after `now`.
  bool expired_at(Timestamp now) const { return expires_at && *expires_at <= now; }
};

// A read-only view of one JWT the model saw issued.
struct JwtView {
  std::uint32_t index = kNoIndex;
  std::string_view text;
  std::string_view account;
  std::uint16_t account_index = 0;
  JwtKind kind = JwtKind::kSession;
  std::optional<Timestamp> expires_at;  // from the `exp` claim
  std::uint32_t pat = kNoIndex;         // token index of the PAT it came from
};

namespace detail {

struct StrRef {
  std::uint32_t off = 0;
  std::uint32_t len = 0;
};

enum TokenFlags : std::uint8_t {
  kActive = 1,
  kDeleted = 2,
  kUsed = 4,
  kScopesAbsent = 8,
  kAdopted = 16,
};

inline constexpr std::size_t kInlineUuid = 36;

struct TokenRec {
  std::uint64_t uuid_key = 0;
  char uuid_inline[kInlineUuid] = {};  // the uuid when it has at most 36 bytes (always, for
                                       // canonical ones), so lookups stay in this record
  std::uint8_t uuid_len = 0;           // length of uuid_inline, or 0xFF when in the arena
  StrRef uuid;                         // the uuid when longer
  StrRef label;
  std::uint64_t label_key = 0;           // hash_bytes(label): label comparisons without the arena
  std::uint32_t secret = kNoIndex;       // index into the secret table
  std::uint32_t info[4] = {0, 0, 0, 0};  // hashes of client_id, creator_ip, creator_ua,
                                         // generated_by as first seen (0: not seen yet)
  std::int64_t created_at = 0;
  std::int64_t expires_at = kNoTime;
  std::int64_t last_used = kNoTime;  // latest non-null last_used observed
  std::uint32_t observed_seq = 0;    // mutation_seq when last confirmed or changed
  std::uint32_t version = 0;         // bumped by every change to this record
  std::uint64_t memo = 0;            // key of the last token object judged clean against it
  std::uint16_t account = 0;
  std::uint8_t scope = 0;
  std::uint8_t flags = 0;
};

struct SecretRec {
  std::uint64_t key = 0;  // hash_bytes of the text
  StrRef text;
  std::uint32_t token = kNoIndex;
  std::uint32_t gram_start = 0;  // offset of the first indexed gram
};

// Substring search of secrets by sampled grams: a secret of at least kMinIndexed bytes is indexed
// by kStride 8-byte grams at consecutive offsets (a window placed where the index is least
// crowded, so secrets sharing a prefix or suffix do not pile up); a text is probed only at every
// kStride-th offset. Any occurrence covers the kStride consecutive offsets of its window, one of
// which is probed, so the search is complete. Shorter secrets are searched for directly.
inline constexpr std::size_t kGram = 8;
inline constexpr std::size_t kStride = 8;
inline constexpr std::size_t kMinIndexed = kGram + kStride - 1;

inline std::uint64_t load_gram(const char* p) {
  std::uint64_t g;
  std::memcpy(&g, p, kGram);
  return g;
}

struct JwtRec {
  std::uint64_t key = 0;
  StrRef text;
  std::int64_t exp = kNoTime;
  std::uint32_t pat = kNoIndex;
  std::uint16_t account = 0;
  JwtKind kind = JwtKind::kSession;
};

struct TwoFactorRec {
  std::uint64_t key = 0;
  StrRef text;
  std::int64_t issued = 0;
  std::uint16_t account = 0;
  bool redeemed = false;
};

struct AccountRec {
  std::uint32_t live = 0;         // tokens not deleted (contract 6 `count`)
  std::uint32_t active_live = 0;  // of those, is_active (expiry is applied at query time)
  std::uint32_t generation = 0;   // bumped whenever the set of live tokens changes
  std::int64_t unseen = 0;        // live tokens not in the model; -1: not known yet
};

// One logged change of the undo journal (ModelState::mark): appends are undone by truncating,
// these by restoring.
enum class UndoKind : std::uint8_t {
  kToken,          // tokens_[index] was the saved token record aux
  kSecretToken,    // secrets_[index].token was aux
  kRedeem,         // two_factor_[index] was not redeemed
  kAccount,        // accounts_[index] was the saved account record aux
  kExpiringErase,  // expiring_ held aux at position index
  kExpiringPush,   // expiring_ grew by one
};
struct Undo {
  UndoKind kind;
  std::uint32_t index;
  std::uint32_t aux;
};

// The journal's log. A copy of a state starts without one and does not journal: states are
// copied to be kept, not to be rolled back.
struct Journal {
  bool on = false;
  std::vector<Undo> undo;
  std::vector<TokenRec> saved_tokens;
  std::vector<AccountRec> saved_accounts;
  Journal() = default;
  Journal(const Journal&) {}
  Journal(Journal&&) = default;
  Journal& operator=(const Journal&) {
    *this = Journal();
    return *this;
  }
  Journal& operator=(Journal&&) = default;
};

}  // namespace detail

// Everything a judgement needs to know about what happened so far.
class ModelState {
 public:
  // Starts with no tokens; `start` is the earliest instant exchanges may carry.
  explicit ModelState(Fixture fixture, Timestamp start = {}, Baseline baseline = Baseline::kEmpty);

  Baseline baseline() const { return baseline_; }
  // Live tokens of the account the model has not seen (0 with Baseline::kEmpty), or nullopt
  // while no listing has told.
  std::optional<std::uint32_t> unseen(std::uint16_t account) const {
    const std::int64_t u = accounts_[account].unseen;
    return u < 0 ? std::nullopt : std::optional<std::uint32_t>(static_cast<std::uint32_t>(u));
  }
  // Records how many live tokens of the account the model has not seen.
  void set_unseen(std::uint16_t account, std::uint32_t n) { touch_account(account).unseen = n; }

  const Fixture& fixture() const { return *fixture_; }
  // The latest `now` any judgement was given (never moves backwards).
  Timestamp last_seen() const { return last_seen_; }

  std::size_t account_count() const { return accounts_.size(); }
  std::string_view account_name(std::size_t account) const;
  // Returns the account index of a username, if the fixture has it.
  std::optional<std::uint16_t> account_index(std::string_view username) const;

  // Tokens ever learned, deleted ones included; indices are stable.
  std::size_t token_count() const { return tokens_.size(); }
  TokenView token(std::uint32_t index) const;
  std::uint16_t token_account(std::uint32_t index) const { return tokens_[index].account; }
  // Returns the index of the token with this exact uuid.
  std::optional<std::uint32_t> find_token(std::string_view uuid) const;
  // Starts fetching what find_token(uuid) will read (for batches of lookups).
  void prefetch_token(std::string_view uuid) const { by_uuid_.prefetch(hash_bytes(uuid)); }
  // Returns the index of the token whose secret is exactly `secret`.
  std::optional<std::uint32_t> find_token_by_secret(std::string_view secret) const;
  // True when `text` is exactly a secret ever issued (even one whose token is unknown).
  bool is_secret(std::string_view text) const;
  std::size_t secret_count() const { return secrets_.size(); }
  std::string_view secret_text(std::uint32_t secret) const { return view(secrets_[secret].text); }
  std::uint32_t secret_token(std::uint32_t secret) const { return secrets_[secret].token; }

  // Live (not deleted) tokens of an account: contract 6 `count`.
  std::uint32_t live_count(std::uint16_t account) const { return accounts_[account].live; }
  // Bounds of contract 6 `active_count` given expiry decided by `expired` for tokens with one.
  template <class ExpiredFn>
  std::pair<std::uint32_t, std::uint32_t> active_count_bounds(std::uint16_t account,
                                                              ExpiredFn&& expired) const;
  // Changes whenever a token of the account is created or deleted (walks use it).
  std::uint32_t generation(std::uint16_t account) const { return accounts_[account].generation; }

  std::size_t jwt_count() const { return jwts_.size(); }
  JwtView jwt(std::uint32_t index) const;
  // Returns the index of a JWT seen issued, by its exact text.
  std::optional<std::uint32_t> find_jwt(std::string_view text) const;

  std::size_t two_factor_count() const { return two_factor_.size(); }
  std::string_view two_factor_text(std::uint32_t i) const { return view(two_factor_[i].text); }
  // Returns the index of a login_2fa_token seen issued.
  std::optional<std::uint32_t> find_two_factor(std::string_view text) const;
  const detail::TwoFactorRec& two_factor(std::uint32_t i) const { return two_factor_[i]; }

  // Calls f(secret_index, offset) for every occurrence of a known secret in `text`.
  template <class F>
  void scan_secrets(std::string_view text, F&& f) const;
  // Length of the shortest secret ever issued (0 when none): shorter texts cannot leak one.
  std::size_t min_secret_length() const { return min_secret_len_; }
  // True when some secret ever issued is exactly `n` bytes long.
  bool has_secret_length(std::size_t n) const {
    for (const std::uint32_t len : secret_lengths_) {
      if (len == n) return true;
    }
    return false;
  }

  // Learning: the oracle's write API. Harnesses read states; only judge() changes them.
  std::uint32_t add_secret(std::string_view secret, std::uint32_t token);
  struct NewToken {
    std::string_view uuid;
    std::string_view label;
    std::uint32_t secret = kNoIndex;
    std::uint16_t account = 0;
    Scope scope = Scope::kPublicRead;
    bool scopes_absent = false;
    bool is_active = true;
    bool adopted = false;  // a token from before the first exchange (counts down unseen)
    Timestamp created_at;
    std::optional<Timestamp> expires_at;
  };
  std::uint32_t add_token(const NewToken& t);
  void set_label(std::uint32_t token, std::string_view label);
  // `mutation` false records a resync to what a response showed, not an operation (contract 3.9
  // attribution only follows operations).
  void set_active(std::uint32_t token, bool active, bool mutation = true);
  void mark_deleted(std::uint32_t token, bool mutation = true);
  void mark_used(std::uint32_t token);
  void observe_last_used(std::uint32_t token, Timestamp t);
  // Records the hash of an informational field (0..3: client_id, creator_ip, creator_ua,
  // generated_by) on first sight; returns false when it differs from the recorded one.
  bool check_info(std::uint32_t token, int field, std::string_view value);
  // Marks a token as confirmed by a response at the current mutation sequence.
  void observe(std::uint32_t token) {
    if (tokens_[token].observed_seq != mutation_seq_) touch(token).observed_seq = mutation_seq_;
  }
  // Remembers that a token object with key `memo` was judged clean at the record's version.
  void set_memo(std::uint32_t token, std::uint64_t memo) {
    if (tokens_[token].memo != memo) touch(token).memo = memo;
  }
  // The token an operation changed most recently, and whether that happened after `token` was
  // last confirmed (contract 3.9 attributes contradictions with it).
  std::optional<std::uint32_t> mutated_since_observed(std::uint32_t token) const;
  std::uint32_t add_jwt(std::string_view text, JwtKind kind, std::uint16_t account,
                        std::optional<Timestamp> exp, std::uint32_t pat);
  std::uint32_t add_two_factor(std::string_view text, std::uint16_t account, Timestamp issued);
  void redeem_two_factor(std::uint32_t i) {
    if (two_factor_[i].redeemed) return;
    if (journal_.on) journal_.undo.push_back({detail::UndoKind::kRedeem, i, 0});
    two_factor_[i].redeemed = true;
  }
  void advance(Timestamp now) {
    if (now > last_seen_) last_seen_ = now;
  }

  // Undo journal, for checkers that try a judgement and take it back (the linearizability
  // search): once started, every change is logged, so rollback(m) restores the state as it was
  // when m = mark() was taken, at the cost of the change rather than of a copy. Restored means
  // logically (operator==, fingerprint, every judgement): indexes may keep their grown capacity
  // and the secret filter stays a superset. Marks nest; roll back to them in reverse order. A
  // copy of a state starts without a journal.
  struct Mark {
    std::size_t tokens = 0, secrets = 0, jwts = 0, two_factor = 0, arena = 0;
    std::size_t secret_lengths = 0, short_secrets = 0;
    std::size_t undo = 0, saved_tokens = 0, saved_accounts = 0;
    Timestamp last_seen;
    std::size_t min_secret_len = 0;
    std::uint32_t mutation_seq = 0;
    std::uint32_t last_mutated = kNoIndex;
  };
  void start_journal() { journal_.on = true; }
  // Stops logging and forgets the log (marks taken before are void).
  void stop_journal();
  bool journaling() const { return journal_.on; }
  Mark mark() const;
  void rollback(const Mark& m);
  // Bytes the log holds.
  std::size_t journal_bytes() const {
    return journal_.undo.capacity() * sizeof(detail::Undo) +
           journal_.saved_tokens.capacity() * sizeof(detail::TokenRec) +
           journal_.saved_accounts.capacity() * sizeof(detail::AccountRec);
  }
  // What changed since m among what existed at m, oldest first: f(index, record at m) for a
  // token record (the first call for an index has its record as it was at m; later calls for
  // the same index may follow), g(index) for a login_2fa_token redeemed since.
  template <class F, class G>
  void changes_since(const Mark& m, F&& f, G&& g) const {
    for (std::size_t u = m.undo; u < journal_.undo.size(); ++u) {
      const detail::Undo& e = journal_.undo[u];
      if (e.kind == detail::UndoKind::kToken && e.index < m.tokens) {
        f(e.index, journal_.saved_tokens[e.aux]);
      } else if (e.kind == detail::UndoKind::kRedeem && e.index < m.two_factor) {
        g(e.index);
      }
    }
  }
  // A view of a token record (one of changes_since's: its strings stay in the arena).
  TokenView token_of(std::uint32_t index, const detail::TokenRec& rec) const;

  // Raw records, for the oracle's hot paths.
  const detail::TokenRec& rec(std::uint32_t token) const { return tokens_[token]; }
  std::string_view uuid(std::uint32_t token) const {
    const detail::TokenRec& t = tokens_[token];
    return t.uuid_len == 0xFF ? view(t.uuid) : std::string_view(t.uuid_inline, t.uuid_len);
  }
  // True when the token's label is `label` (compared by 64-bit hash).
  bool label_is(std::uint32_t token, std::string_view label) const {
    return tokens_[token].label_key == hash_bytes(label);
  }
  std::string_view view(detail::StrRef r) const {
    return std::string_view(arena_).substr(r.off, r.len);
  }

  // A hash of the logical state (what equality compares), for memoising checkers.
  std::uint64_t fingerprint() const;
  // Logical equality: same fixture, tokens, secrets, JWTs, login_2fa_tokens and last_seen;
  // arena layout and bookkeeping for messages are ignored.
  bool operator==(const ModelState& other) const;

 private:
  detail::StrRef store(std::string_view s);
  // The record, logged first when journaling.
  detail::TokenRec& touch(std::uint32_t token) {
    if (journal_.on) {
      journal_.undo.push_back({detail::UndoKind::kToken, token,
                               static_cast<std::uint32_t>(journal_.saved_tokens.size())});
      journal_.saved_tokens.push_back(tokens_[token]);
    }
    return tokens_[token];
  }
  detail::AccountRec& touch_account(std::uint16_t account) {
    if (journal_.on) {
      journal_.undo.push_back({detail::UndoKind::kAccount, account,
                               static_cast<std::uint32_t>(journal_.saved_accounts.size())});
      journal_.saved_accounts.push_back(accounts_[account]);
    }
    return accounts_[account];
  }
  void index_grams(std::uint32_t secret);
  void rebuild_bloom();
  bool bloom_may_contain(std::uint64_t gram) const {
    const std::uint64_t bit = (gram * 0x9E3779B97F4A7C15ULL) >> bloom_shift_;
    return (bloom_[bit >> 6] >> (bit & 63)) & 1;
  }
  void bloom_add(std::uint64_t gram) {
    const std::uint64_t bit = (gram * 0x9E3779B97F4A7C15ULL) >> bloom_shift_;
    bloom_[bit >> 6] |= std::uint64_t{1} << (bit & 63);
  }

  std::shared_ptr<const Fixture> fixture_;
  Timestamp last_seen_;
  Baseline baseline_ = Baseline::kEmpty;
  std::vector<detail::AccountRec> accounts_;
  std::vector<detail::TokenRec> tokens_;
  std::vector<detail::SecretRec> secrets_;
  std::vector<detail::JwtRec> jwts_;
  std::vector<detail::TwoFactorRec> two_factor_;
  std::vector<std::uint32_t> expiring_;        // live tokens created with an expires_at
  std::vector<std::uint32_t> secret_lengths_;  // distinct lengths of the secrets
  std::vector<std::uint32_t> short_secrets_;   // shorter than kMinIndexed
  std::vector<std::uint64_t> bloom_;           // over the indexed grams
  unsigned bloom_shift_ = 64;
  std::size_t min_secret_len_ = 0;
  std::string arena_;
  FlatIndex by_uuid_;
  FlatIndex by_secret_;  // hash_bytes(secret) -> secret
  FlatIndex by_gram_;    // mix64(gram) -> secret << 3 | gram slot
  FlatIndex by_jwt_;
  FlatIndex by_two_factor_;
  std::uint32_t mutation_seq_ = 0;
  std::uint32_t last_mutated_ = kNoIndex;
  detail::Journal journal_;
};

template <class ExpiredFn>
std::pair<std::uint32_t, std::uint32_t> ModelState::active_count_bounds(std::uint16_t account,
                                                                        ExpiredFn&& expired) const {
  std::uint32_t hi = accounts_[account].active_live;
  std::uint32_t lo = hi;
  for (const std::uint32_t i : expiring_) {
    const detail::TokenRec& t = tokens_[i];
    if (t.account != account || !(t.flags & detail::kActive)) {
      continue;
    }
    const Tri e = expired(Timestamp{t.expires_at});
    if (e == Tri::kYes) {
      --lo;
      --hi;
    } else if (e == Tri::kMaybe) {
      --lo;
    }
  }
  return {lo, hi};
}

template <class F>
void ModelState::scan_secrets(std::string_view text, F&& f) const {
  if (secrets_.empty() || text.size() < min_secret_len_) return;
  const char* s = text.data();
  const std::size_t n = text.size();
  for (const std::uint32_t si : short_secrets_) {
    const std::string_view secret = view(secrets_[si].text);
    for (std::size_t p = text.find(secret); p != std::string_view::npos;
         p = text.find(secret, p + 1)) {
      f(si, p);
    }
  }
  if (by_gram_.size() == 0 || n < detail::kMinIndexed) return;
  for (std::size_t t = 0; t + detail::kGram <= n; t += detail::kStride) {
    const std::uint64_t g = detail::load_gram(s + t);
    if (!bloom_may_contain(g)) continue;
    by_gram_.find_if(mix64(g), [&](std::uint32_t v) {
      const std::uint32_t si = v >> 3;
      const detail::SecretRec& r = secrets_[si];
      const std::size_t offset = r.gram_start + (v & 7);
      if (t >= offset && t - offset + r.text.len <= n &&
          std::memcmp(arena_.data() + r.text.off, s + t - offset, r.text.len) == 0) {
        f(si, t - offset);
      }
      return false;
    });
  }
}

}  // namespace patrol::model
