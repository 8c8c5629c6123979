#include "properties/session.hpp"

namespace patrol::properties {

using model::HttpRequest;
using model::Result;

Session::Session(Target& target, const model::Profile& profile)
    : target_(target),
      profile_(profile),
      state_(target.fixture(), target.now(), target.baseline()) {}

Session::Session(Target& target, const model::Profile& profile, model::ModelState initial)
    : target_(target), profile_(profile), state_(std::move(initial)) {}

Result<const Step*> Session::exchange(const std::string& command, HttpRequest request,
                                      const std::vector<const char*>& rules,
                                      model::ListingWalk* walk) {
  auto response = target_.transport().send(request);
  if (!response.ok()) return response.error();
  Step step;
  step.command = command;
  step.now = target_.now();
  step.violations = walk ? walk->add_page(state_, request, *response, step.now)
                         : model::judge_in_place(state_, request, *response, step.now, profile_);
  model::Route route = model::classify(request);
  std::string route_name(model::route_id(route));
  ++coverage_.route_status[route_name + " " + std::to_string(response->status)];
  for (const char* r : rules) ++coverage_.rules[r];
  ++coverage_.rules["8"];    // every exchange is checked for 5xx and shape
  ++coverage_.rules["3.1"];  // and scanned for secrets
  if (response->status >= 400 && response->status < 500 && response->status != 429) {
    ++coverage_.rules["7"];
  }
  step.request = std::move(request);
  step.response = std::move(*response);
  if (!step.violations.empty()) failed_ = true;
  steps_.push_back(std::move(step));
  return &steps_.back();
}

void Session::finish_walk(const model::ListingWalk& walk) {
  auto found = walk.finish(state_);
  if (found.empty() || steps_.empty()) return;
  auto& last = steps_.back().violations;
  last.insert(last.end(), found.begin(), found.end());
  failed_ = true;
}

std::optional<std::string> Session::session_jwt(std::string_view account,
                                                model::Timestamp now) const {
  for (std::size_t i = state_.jwt_count(); i-- > 0;) {
    model::JwtView j = state_.jwt(static_cast<std::uint32_t>(i));
    if (j.kind != model::JwtKind::kSession || j.account != account) continue;
    // Keep a margin so the JWT does not expire between pick and send.
    if (j.expires_at && j.expires_at->micros <= now.micros + 5'000'000) continue;
    return std::string(j.text);
  }
  return std::nullopt;
}

std::vector<model::Violation> Session::violations() const {
  std::vector<model::Violation> out;
  for (const auto& s : steps_) out.insert(out.end(), s.violations.begin(), s.violations.end());
  return out;
}

std::string Session::line(const Step& s) const {
  // Built when a transcript is asked for (a failure, a report), not on every exchange; the
  // model knows every secret of the sequence by then, so nothing shown is less redacted.
  const std::string& b = s.request.body;
  std::string body = b.size() > 160 ? b.substr(0, 160) + "..." : b;
  return redact(s.request.target_line() + (body.empty() ? "" : " " + body) + " -> " +
                std::to_string(s.response.status));
}

std::vector<std::string> Session::transcript() const {
  std::vector<std::string> out;
  for (const auto& s : steps_) {
    out.push_back(line(s));
    for (const auto& v : s.violations) {
      out.push_back("    ^ violates contract " + v.rule + ": " + v.message);
    }
  }
  return out;
}

}  // namespace patrol::properties
