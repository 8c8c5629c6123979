#include "model/state.hpp"

#include <algorithm>

namespace patrol::model {

using detail::StrRef;

namespace {

// Index key of a JWT: its length and last 48 bytes (the signature), so a lookup does not hash the
// whole token; lookups still compare the full text.
std::uint64_t jwt_key(std::string_view text) {
  const std::size_t tail = std::min<std::size_t>(text.size(), 48);
  return mix64(hash_bytes(text.substr(text.size() - tail)) ^ text.size());
}

}  // namespace

ModelState::ModelState(Fixture fixture, Timestamp start, Baseline baseline)
    : fixture_(std::make_shared<const Fixture>(std::move(fixture))),
      last_seen_(start),
      baseline_(baseline) {
  accounts_.resize(fixture_->accounts.size());
  if (baseline == Baseline::kUnknown) {
    for (auto& a : accounts_) a.unseen = -1;
  }
  bloom_.assign(8, 0);  // 512 bits
  bloom_shift_ = 64 - 9;
}

std::string_view ModelState::account_name(std::size_t account) const {
  if (account >= fixture_->accounts.size()) return {};
  return fixture_->accounts[account].username;
}

std::optional<std::uint16_t> ModelState::account_index(std::string_view username) const {
  const auto& accounts = fixture_->accounts;
  for (std::size_t i = 0; i < accounts.size() && i < 0xFFFF; ++i) {
    if (accounts[i].username == username) return static_cast<std::uint16_t>(i);
  }
  return std::nullopt;
}

StrRef ModelState::store(std::string_view s) {
  StrRef r{static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(s.size())};
  arena_.append(s);
  return r;
}

TokenView ModelState::token(std::uint32_t index) const { return token_of(index, tokens_[index]); }

TokenView ModelState::token_of(std::uint32_t index, const detail::TokenRec& t) const {
  TokenView v;
  v.index = index;
  v.uuid = t.uuid_len == 0xFF ? view(t.uuid) : std::string_view(t.uuid_inline, t.uuid_len);
  v.owner = account_name(t.account);
  v.label = view(t.label);
  if (t.secret != kNoIndex) v.secret = view(secrets_[t.secret].text);
  v.scope = static_cast<Scope>(t.scope);
  v.scopes_absent = (t.flags & detail::kScopesAbsent) != 0;
  v.is_active = (t.flags & detail::kActive) != 0;
  v.deleted = (t.flags & detail::kDeleted) != 0;
  v.used = (t.flags & detail::kUsed) != 0;
  v.adopted = (t.flags & detail::kAdopted) != 0;
  v.created_at = Timestamp{t.created_at};
  if (t.expires_at != kNoTime) v.expires_at = Timestamp{t.expires_at};
  if (t.last_used != kNoTime) v.last_used = Timestamp{t.last_used};
  return v;
}

std::optional<std::uint32_t> ModelState::find_token(std::string_view uuid) const {
  std::optional<std::uint32_t> out;
  by_uuid_.find_if(hash_bytes(uuid), [&](std::uint32_t i) {
    if (this->uuid(i) == uuid) {
      out = i;
      return true;
    }
    return false;
  });
  return out;
}

std::optional<std::uint32_t> ModelState::find_token_by_secret(std::string_view secret) const {
  std::optional<std::uint32_t> out;
  if (!has_secret_length(secret.size())) return out;
  by_secret_.find_if(hash_bytes(secret), [&](std::uint32_t si) {
    if (view(secrets_[si].text) == secret && secrets_[si].token != kNoIndex) {
      out = secrets_[si].token;
      return true;
    }
    return false;
  });
  return out;
}

bool ModelState::is_secret(std::string_view text) const {
  if (!has_secret_length(text.size())) return false;
  return by_secret_.find_if(hash_bytes(text),
                            [&](std::uint32_t si) { return view(secrets_[si].text) == text; });
}

JwtView ModelState::jwt(std::uint32_t index) const {
  const detail::JwtRec& j = jwts_[index];
  JwtView v;
  v.index = index;
  v.text = view(j.text);
  v.account = account_name(j.account);
  v.account_index = j.account;
  v.kind = j.kind;
  if (j.exp != kNoTime) v.expires_at = Timestamp{j.exp};
  v.pat = j.pat;
  return v;
}

std::optional<std::uint32_t> ModelState::find_jwt(std::string_view text) const {
  std::optional<std::uint32_t> out;
  by_jwt_.find_if(jwt_key(text), [&](std::uint32_t i) {
    if (view(jwts_[i].text) == text) {
      out = i;
      return true;
    }
    return false;
  });
  return out;
}

std::optional<std::uint32_t> ModelState::find_two_factor(std::string_view text) const {
  std::optional<std::uint32_t> out;
  by_two_factor_.find_if(hash_bytes(text), [&](std::uint32_t i) {
    if (view(two_factor_[i].text) == text) {
      out = i;
      return true;
    }
    return false;
  });
  return out;
}

std::uint32_t ModelState::add_secret(std::string_view secret, std::uint32_t token) {
  detail::SecretRec r;
  r.key = hash_bytes(secret);
  r.text = store(secret);
  r.token = token;
  const auto index = static_cast<std::uint32_t>(secrets_.size());
  secrets_.push_back(r);
  by_secret_.insert(r.key, index);
  const auto len = static_cast<std::uint32_t>(secret.size());
  if (len == 0) return index;
  if (!has_secret_length(len)) secret_lengths_.push_back(len);
  if (min_secret_len_ == 0 || len < min_secret_len_) min_secret_len_ = len;
  if (len < detail::kMinIndexed) {
    short_secrets_.push_back(index);
  } else {
    index_grams(index);
  }
  return index;
}

void ModelState::index_grams(std::uint32_t secret) {
  detail::SecretRec& r = secrets_[secret];
  const char* text = arena_.data() + r.text.off;
  // Candidate windows: the end, the middle and the start; the least crowded one wins. The bloom
  // filter answers "certainly absent" for most grams without touching the table.
  const std::size_t last = r.text.len - detail::kMinIndexed;
  const std::size_t candidates[] = {last, last / 2, 0};
  std::size_t best = last;
  std::size_t best_load = SIZE_MAX;
  for (const std::size_t start : candidates) {
    std::size_t load = 0;
    for (std::size_t slot = 0; slot < detail::kStride; ++slot) {
      const std::uint64_t g = detail::load_gram(text + start + slot);
      if (!bloom_may_contain(g)) continue;
      by_gram_.find_if(mix64(g), [&](std::uint32_t) {
        ++load;
        return false;
      });
    }
    if (load < best_load) {
      best = start;
      best_load = load;
    }
    if (load == 0) break;
  }
  r.gram_start = static_cast<std::uint32_t>(best);
  std::uint64_t keys[detail::kStride];
  for (std::uint32_t slot = 0; slot < detail::kStride; ++slot) {
    keys[slot] = mix64(detail::load_gram(text + best + slot));
    by_gram_.prefetch(keys[slot]);
  }
  for (std::uint32_t slot = 0; slot < detail::kStride; ++slot) {
    by_gram_.insert(keys[slot], secret << 3 | slot);
  }
  // 8 to 16 bloom bits per gram: small enough to stay in cache, one false positive in ~10.
  if (by_gram_.size() * 8 > (std::size_t{1} << (64 - bloom_shift_))) {
    rebuild_bloom();
    return;
  }
  for (std::size_t slot = 0; slot < detail::kStride; ++slot) {
    bloom_add(detail::load_gram(text + best + slot));
  }
}

void ModelState::rebuild_bloom() {
  unsigned bits = 64 - bloom_shift_;
  while ((std::size_t{1} << bits) < by_gram_.size() * 16) ++bits;
  bloom_shift_ = 64 - bits;
  bloom_.assign((std::size_t{1} << bits) / 64, 0);
  for (const auto& r : secrets_) {
    if (r.text.len < detail::kMinIndexed) continue;
    const char* text = arena_.data() + r.text.off;
    for (std::size_t slot = 0; slot < detail::kStride; ++slot) {
      bloom_add(detail::load_gram(text + r.gram_start + slot));
    }
  }
}

std::uint32_t ModelState::add_token(const NewToken& t) {
  detail::TokenRec r;
  r.uuid_key = hash_bytes(t.uuid);
  if (t.uuid.size() <= detail::kInlineUuid) {
    std::memcpy(r.uuid_inline, t.uuid.data(), t.uuid.size());
    r.uuid_len = static_cast<std::uint8_t>(t.uuid.size());
  } else {
    r.uuid = store(t.uuid);
    r.uuid_len = 0xFF;
  }
  r.label = store(t.label);
  r.label_key = hash_bytes(t.label);
  r.secret = t.secret;
  r.created_at = t.created_at.micros;
  r.expires_at = t.expires_at ? t.expires_at->micros : kNoTime;
  r.account = t.account;
  r.scope = static_cast<std::uint8_t>(t.scope);
  r.flags = static_cast<std::uint8_t>((t.is_active ? detail::kActive : 0) |
                                      (t.scopes_absent ? detail::kScopesAbsent : 0) |
                                      (t.adopted ? detail::kAdopted : 0));
  r.observed_seq = mutation_seq_;
  const auto index = static_cast<std::uint32_t>(tokens_.size());
  tokens_.push_back(r);
  by_uuid_.insert(r.uuid_key, index);
  if (t.secret != kNoIndex) {
    if (journal_.on && t.secret < secrets_.size()) {
      journal_.undo.push_back({detail::UndoKind::kSecretToken, t.secret, secrets_[t.secret].token});
    }
    secrets_[t.secret].token = index;
  }
  if (t.expires_at) {
    if (journal_.on) journal_.undo.push_back({detail::UndoKind::kExpiringPush, 0, 0});
    expiring_.push_back(index);
  }
  detail::AccountRec& a = touch_account(t.account);
  ++a.live;
  if (t.is_active) ++a.active_live;
  if (t.adopted && a.unseen > 0) {
    --a.unseen;  // it was counted among the unseen
  } else {
    ++a.generation;
  }
  return index;
}

void ModelState::set_label(std::uint32_t token, std::string_view label) {
  if (label_is(token, label)) return;
  detail::TokenRec& t = touch(token);
  ++t.version;
  t.label = store(label);
  t.label_key = hash_bytes(label);
}

void ModelState::set_active(std::uint32_t token, bool active, bool mutation) {
  detail::TokenRec& t = touch(token);
  const bool was = (t.flags & detail::kActive) != 0;
  if (was != active) {
    ++t.version;
    if (!(t.flags & detail::kDeleted)) {
      if (active) {
        ++touch_account(t.account).active_live;
      } else {
        --touch_account(t.account).active_live;
      }
    }
    t.flags ^= detail::kActive;
    if (mutation) {
      ++mutation_seq_;
      last_mutated_ = token;
    }
  }
  t.observed_seq = mutation_seq_;
}

void ModelState::mark_deleted(std::uint32_t token, bool mutation) {
  if (tokens_[token].flags & detail::kDeleted) return;
  detail::TokenRec& t = touch(token);
  t.flags |= detail::kDeleted;
  ++t.version;
  if (t.expires_at != kNoTime) {
    for (std::size_t p = expiring_.size(); p-- > 0;) {
      if (expiring_[p] != token) continue;
      if (journal_.on) {
        journal_.undo.push_back(
            {detail::UndoKind::kExpiringErase, static_cast<std::uint32_t>(p), token});
      }
      expiring_.erase(expiring_.begin() + static_cast<std::ptrdiff_t>(p));
    }
  }
  detail::AccountRec& a = touch_account(t.account);
  --a.live;
  if (t.flags & detail::kActive) --a.active_live;
  ++a.generation;
  if (mutation) {
    ++mutation_seq_;
    last_mutated_ = token;
  }
  t.observed_seq = mutation_seq_;
}

void ModelState::mark_used(std::uint32_t token) {
  if (tokens_[token].flags & detail::kUsed) return;
  detail::TokenRec& t = touch(token);
  ++t.version;
  t.flags |= detail::kUsed;
}

void ModelState::observe_last_used(std::uint32_t token, Timestamp t) {
  if (t.micros > tokens_[token].last_used) {
    detail::TokenRec& r = touch(token);
    r.last_used = t.micros;
    ++r.version;
  }
}

bool ModelState::check_info(std::uint32_t token, int field, std::string_view value) {
  const std::uint32_t h = static_cast<std::uint32_t>(hash_bytes(value)) | 1u;
  const std::uint32_t slot = tokens_[token].info[field];
  if (slot == 0) {
    detail::TokenRec& r = touch(token);
    r.info[field] = h;
    ++r.version;
    return true;
  }
  return slot == h;
}

std::optional<std::uint32_t> ModelState::mutated_since_observed(std::uint32_t token) const {
  if (last_mutated_ == kNoIndex || last_mutated_ == token) return std::nullopt;
  if (mutation_seq_ <= tokens_[token].observed_seq) return std::nullopt;
  return last_mutated_;
}

std::uint32_t ModelState::add_jwt(std::string_view text, JwtKind kind, std::uint16_t account,
                                  std::optional<Timestamp> exp, std::uint32_t pat) {
  if (auto known = find_jwt(text)) return *known;
  detail::JwtRec r;
  r.key = jwt_key(text);
  r.text = store(text);
  r.exp = exp ? exp->micros : kNoTime;
  r.pat = pat;
  r.account = account;
  r.kind = kind;
  const auto index = static_cast<std::uint32_t>(jwts_.size());
  jwts_.push_back(r);
  by_jwt_.insert(r.key, index);
  return index;
}

std::uint32_t ModelState::add_two_factor(std::string_view text, std::uint16_t account,
                                         Timestamp issued) {
  if (auto known = find_two_factor(text)) return *known;
  detail::TwoFactorRec r;
  r.key = hash_bytes(text);
  r.text = store(text);
  r.issued = issued.micros;
  r.account = account;
  const auto index = static_cast<std::uint32_t>(two_factor_.size());
  two_factor_.push_back(r);
  by_two_factor_.insert(r.key, index);
  return index;
}

void ModelState::stop_journal() {
  journal_.on = false;
  journal_.undo = {};
  journal_.saved_tokens = {};
  journal_.saved_accounts = {};
}

ModelState::Mark ModelState::mark() const {
  Mark m;
  m.tokens = tokens_.size();
  m.secrets = secrets_.size();
  m.jwts = jwts_.size();
  m.two_factor = two_factor_.size();
  m.arena = arena_.size();
  m.secret_lengths = secret_lengths_.size();
  m.short_secrets = short_secrets_.size();
  m.undo = journal_.undo.size();
  m.saved_tokens = journal_.saved_tokens.size();
  m.saved_accounts = journal_.saved_accounts.size();
  m.last_seen = last_seen_;
  m.min_secret_len = min_secret_len_;
  m.mutation_seq = mutation_seq_;
  m.last_mutated = last_mutated_;
  return m;
}

void ModelState::rollback(const Mark& m) {
  for (std::size_t u = journal_.undo.size(); u-- > m.undo;) {
    const detail::Undo& e = journal_.undo[u];
    switch (e.kind) {
      case detail::UndoKind::kToken:
        tokens_[e.index] = journal_.saved_tokens[e.aux];
        break;
      case detail::UndoKind::kSecretToken:
        secrets_[e.index].token = e.aux;
        break;
      case detail::UndoKind::kRedeem:
        two_factor_[e.index].redeemed = false;
        break;
      case detail::UndoKind::kAccount:
        accounts_[e.index] = journal_.saved_accounts[e.aux];
        break;
      case detail::UndoKind::kExpiringErase:
        expiring_.insert(expiring_.begin() + e.index, e.aux);
        break;
      case detail::UndoKind::kExpiringPush:
        expiring_.pop_back();
        break;
    }
  }
  journal_.undo.resize(m.undo);
  journal_.saved_tokens.resize(m.saved_tokens);
  journal_.saved_accounts.resize(m.saved_accounts);
  // Records appended since: out of their indexes, then truncated.
  for (std::size_t i = tokens_.size(); i-- > m.tokens;) {
    by_uuid_.erase(tokens_[i].uuid_key, static_cast<std::uint32_t>(i));
  }
  for (std::size_t i = secrets_.size(); i-- > m.secrets;) {
    const detail::SecretRec& r = secrets_[i];
    by_secret_.erase(r.key, static_cast<std::uint32_t>(i));
    if (r.text.len < detail::kMinIndexed) continue;
    const char* text = arena_.data() + r.text.off + r.gram_start;
    for (std::uint32_t slot = 0; slot < detail::kStride; ++slot) {
      by_gram_.erase(mix64(detail::load_gram(text + slot)),
                     static_cast<std::uint32_t>(i) << 3 | slot);
    }
  }
  for (std::size_t i = jwts_.size(); i-- > m.jwts;) {
    by_jwt_.erase(jwts_[i].key, static_cast<std::uint32_t>(i));
  }
  for (std::size_t i = two_factor_.size(); i-- > m.two_factor;) {
    by_two_factor_.erase(two_factor_[i].key, static_cast<std::uint32_t>(i));
  }
  tokens_.resize(m.tokens);
  secrets_.resize(m.secrets);
  jwts_.resize(m.jwts);
  two_factor_.resize(m.two_factor);
  arena_.resize(m.arena);
  secret_lengths_.resize(m.secret_lengths);
  short_secrets_.resize(m.short_secrets);
  last_seen_ = m.last_seen;
  min_secret_len_ = m.min_secret_len;
  mutation_seq_ = m.mutation_seq;
  last_mutated_ = m.last_mutated;
}

namespace {

struct Hasher {
  std::uint64_t h = 0x84222325CBF29CE4ULL;
  void add(std::uint64_t v) { h = mix64(h ^ (v + 0x9E3779B97F4A7C15ULL)); }
  void add(std::string_view s) { add(hash_bytes(s)); }
};

}  // namespace

std::uint64_t ModelState::fingerprint() const {
  Hasher h;
  h.add(static_cast<std::uint64_t>(last_seen_.micros));
  for (const auto& a : accounts_) h.add(static_cast<std::uint64_t>(a.unseen));
  h.add(tokens_.size());
  for (std::uint32_t i = 0; i < tokens_.size(); ++i) {
    const auto& t = tokens_[i];
    h.add(uuid(i));
    h.add(view(t.label));
    h.add(t.secret == kNoIndex ? std::string_view() : view(secrets_[t.secret].text));
    h.add(static_cast<std::uint64_t>(t.created_at));
    h.add(static_cast<std::uint64_t>(t.expires_at));
    h.add(static_cast<std::uint64_t>(t.last_used));
    h.add((std::uint64_t{t.account} << 16) | (std::uint64_t{t.scope} << 8) | t.flags);
  }
  h.add(secrets_.size());
  for (const auto& s : secrets_) h.add(view(s.text));
  h.add(jwts_.size());
  for (const auto& j : jwts_) {
    h.add(view(j.text));
    h.add(static_cast<std::uint64_t>(j.exp));
  }
  h.add(two_factor_.size());
  for (const auto& t : two_factor_) {
    h.add(view(t.text));
    h.add(t.redeemed ? 1u : 0u);
  }
  return h.h;
}

bool ModelState::operator==(const ModelState& o) const {
  for (std::size_t i = 0; i < accounts_.size() && i < o.accounts_.size(); ++i) {
    if (accounts_[i].unseen != o.accounts_[i].unseen) return false;
  }
  if (!(*fixture_ == *o.fixture_) || last_seen_ != o.last_seen_ || baseline_ != o.baseline_ ||
      tokens_.size() != o.tokens_.size() || secrets_.size() != o.secrets_.size() ||
      jwts_.size() != o.jwts_.size() || two_factor_.size() != o.two_factor_.size()) {
    return false;
  }
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const auto& a = tokens_[i];
    const auto& b = o.tokens_[i];
    if (uuid(static_cast<std::uint32_t>(i)) != o.uuid(static_cast<std::uint32_t>(i)) ||
        view(a.label) != o.view(b.label) || a.secret != b.secret || a.created_at != b.created_at ||
        a.expires_at != b.expires_at || a.last_used != b.last_used || a.account != b.account ||
        a.scope != b.scope || a.flags != b.flags ||
        !std::equal(std::begin(a.info), std::end(a.info), std::begin(b.info))) {
      return false;
    }
  }
  for (std::size_t i = 0; i < secrets_.size(); ++i) {
    if (view(secrets_[i].text) != o.view(o.secrets_[i].text) ||
        secrets_[i].token != o.secrets_[i].token) {
      return false;
    }
  }
  for (std::size_t i = 0; i < jwts_.size(); ++i) {
    const auto& a = jwts_[i];
    const auto& b = o.jwts_[i];
    if (view(a.text) != o.view(b.text) || a.exp != b.exp || a.pat != b.pat ||
        a.account != b.account || a.kind != b.kind) {
      return false;
    }
  }
  for (std::size_t i = 0; i < two_factor_.size(); ++i) {
    const auto& a = two_factor_[i];
    const auto& b = o.two_factor_[i];
    if (view(a.text) != o.view(b.text) || a.issued != b.issued || a.account != b.account ||
        a.redeemed != b.redeemed) {
      return false;
    }
  }
  return true;
}

}  // namespace patrol::model
