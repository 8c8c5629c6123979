#include "model/walk.hpp"

#include <algorithm>
#include <unordered_map>

#include "model/listing.hpp"
#include "model/oracle_internal.hpp"

namespace patrol::model {

namespace {

// The account whose session JWT authorises a request, if the model knows the JWT.
std::optional<std::uint16_t> caller_of(const ModelState& state, const HttpRequest& request) {
  const std::string* auth = detail::find_header(request.headers, "Authorization");
  if (auth == nullptr) return std::nullopt;
  std::string_view v = detail::trim(*auth);
  const std::size_t sp = v.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  const auto j = state.find_jwt(detail::trim(v.substr(sp + 1)));
  if (!j) return std::nullopt;
  const JwtView jv = state.jwt(*j);
  if (jv.kind != JwtKind::kSession) return std::nullopt;
  return jv.account_index;
}

}  // namespace

std::vector<Violation> ListingWalk::add_page(ModelState& state, const HttpRequest& request,
                                             const HttpResponse& response, Timestamp now) {
  std::vector<Violation> out = judge_in_place(state, request, response, now, profile_);
  if (classify(request) != Route::kList) {
    checkable_ = false;
    return out;
  }
  const auto who = caller_of(state, request);
  const auto q = parse_list_query(request.query);
  if (!who || !q.ok() || !q->in_range()) {
    checkable_ = false;
    return out;
  }
  if (pages_.empty()) {
    account_ = *who;
    generation_ = state.generation(*who);
  } else if (account_ != *who || generation_ != state.generation(*who) ||
             pages_.front().page_size != q->page_size) {
    checkable_ = false;
  }
  Page p;
  p.page = q->page;
  p.page_size = q->page_size;
  p.status = response.status;
  if (response.status == 200 && tape_.parse(response.body) && tape_.is_object(0)) {
    std::string tmp;
    if (const auto n = tape_.find(0, "count"); n != JsonTape::kNone) {
      p.count = tape_.integer(n).value_or(-1);
    }
    if (const auto n = tape_.find(0, "active_count"); n != JsonTape::kNone) {
      p.active_count = tape_.integer(n).value_or(-1);
    }
    if (const auto r = tape_.find(0, "results"); r != JsonTape::kNone && tape_.is_array(r)) {
      for (std::uint32_t e = r + 1; e < tape_.node(r).end; e = tape_.next_sibling(e)) {
        const std::uint32_t u = tape_.is_object(e) ? tape_.find(e, "uuid") : JsonTape::kNone;
        if (u != JsonTape::kNone && tape_.is_string(u)) p.uuids.emplace_back(tape_.str(u, tmp));
      }
    }
  }
  pages_.push_back(std::move(p));
  return out;
}

std::vector<Violation> ListingWalk::finish(const ModelState& state) const {
  std::vector<Violation> out;
  if (pages_.empty()) return out;
  auto add = [&](std::string message, std::string excerpt) {
    out.push_back(Violation{"6", std::move(message), redact(excerpt, state)});
  };
  // count / active_count agree across the 200 pages.
  const Page* first = nullptr;
  for (const Page& p : pages_) {
    if (p.status != 200 || p.count < 0) continue;
    if (first == nullptr) {
      first = &p;
      continue;
    }
    if (checkable_ && p.count != first->count) {
      add("listing walk: count was " + std::to_string(first->count) + " on page " +
              std::to_string(first->page) + " and " + std::to_string(p.count) + " on page " +
              std::to_string(p.page) +
              " with no write in between; every page reports the same count (contract 6)",
          "page " + std::to_string(p.page) + ": count " + std::to_string(p.count));
    }
    if (checkable_ && p.active_count >= 0 && first->active_count >= 0 &&
        p.active_count != first->active_count) {
      add("listing walk: active_count was " + std::to_string(first->active_count) + " on page " +
              std::to_string(first->page) + " and " + std::to_string(p.active_count) + " on page " +
              std::to_string(p.page) +
              " with no write in between; every page reports the same active_count (contract 6)",
          "page " + std::to_string(p.page) + ": active_count " + std::to_string(p.active_count));
    }
  }
  if (!checkable_) return out;

  // No token on two pages.
  std::unordered_map<std::string, std::int64_t> seen;
  for (const Page& p : pages_) {
    std::vector<std::string> on_page;
    for (const std::string& u : p.uuids) {
      if (std::find(on_page.begin(), on_page.end(), u) != on_page.end()) continue;  // oracle's
      on_page.push_back(u);
      const auto [it, fresh] = seen.emplace(u, p.page);
      if (!fresh && it->second != p.page) {
        add("listing walk: token " + u + " is on page " + std::to_string(it->second) +
                " and on page " + std::to_string(p.page) +
                "; the pages of one listing partition the tokens (contract 6)",
            "page " + std::to_string(p.page) + ": " + u);
      }
    }
  }

  // None missing once every page up to the last was fetched.
  const std::int64_t live = state.live_count(static_cast<std::uint16_t>(account_));
  const std::int64_t size = pages_.front().page_size;
  const std::int64_t needed = std::max<std::int64_t>(1, (live + size - 1) / size);
  for (std::int64_t pg = 1; pg <= needed; ++pg) {
    const bool fetched = std::any_of(pages_.begin(), pages_.end(), [&](const Page& p) {
      return p.page == pg && p.status == 200;
    });
    if (!fetched) return out;
  }
  for (std::uint32_t i = 0; i < state.token_count(); ++i) {
    if (state.token_account(i) != account_) continue;
    const TokenView t = state.token(i);
    if (t.deleted || seen.count(std::string(t.uuid))) continue;
    add("listing walk: token " + std::string(t.uuid) + " of " + std::string(t.owner) +
            " appears on none of the " + std::to_string(needed) +
            " pages; the pages of one listing partition the tokens (contract 6)",
        "missing: " + std::string(t.uuid));
  }
  return out;
}

WalkVerdict judge_walk(const ModelState& state, const std::vector<Exchange>& pages,
                       const Profile& profile) {
  WalkVerdict v{{}, state};
  ListingWalk walk(profile);
  for (const Exchange& e : pages) {
    auto page = walk.add_page(v.next, e.request, e.response, e.now);
    v.violations.insert(v.violations.end(), page.begin(), page.end());
  }
  auto cross = walk.finish(v.next);
  v.violations.insert(v.violations.end(), cross.begin(), cross.end());
  return v;
}

}  // namespace patrol::model
