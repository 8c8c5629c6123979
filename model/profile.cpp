#include "model/profile.hpp"

#include <array>
#include <variant>

namespace patrol::model {

Profile Profile::hub() {
  Profile p;
  p.name = "hub";
  return p;
}

Profile Profile::spec() {
  Profile p;
  p.name = "spec";
  p.read_token = ReadToken::kEmptyOrStars;  // A1: S1 example "" / S3 "***"
  p.read_token_may_be_absent = false;       // A1
  p.error_bodies = ErrorBodies::kSpec;      // A3, A4: ValueError / Error as declared
  p.out_of_range_page_may_clamp = false;    // A10: E2 declares 400 for bad input
  p.jwt_keyword_may_authenticate = false;   // A22: only bearerAuth is declared
  p.label_may_be_trimmed = false;           // A25: the label is echoed as sent
  p.info_fields_may_be_null = false;        // contract 2: declared non-nullable strings
  p.unknown_request_members_may_be_400 = false;
  return p;
}

Result<Profile> profile_by_name(std::string_view name) {
  if (name == "hub") return Profile::hub();
  if (name == "spec") return Profile::spec();
  return make_error(ErrorKind::kInvalid,
                    "profile '" + std::string(name) + "' is unknown (known: hub, spec)");
}

namespace {

template <class E, std::size_t N>
struct EnumMember {
  using Enum = E;
  E Profile::*member;
  std::array<const char*, N> names;  // indexed by the enum's value
};

using Member = std::variant<bool Profile::*, std::int64_t Profile::*, std::string Profile::*,
                            EnumMember<ReadToken, 2>, EnumMember<UnsetExpiry, 3>,
                            EnumMember<ErrorBodies, 2>, EnumMember<ScopeEcho, 3>,
                            EnumMember<PatchExtras, 3>, EnumMember<TwoFactorPassword, 3>>;

struct Described {
  const char* name;
  Member member;
};

const std::vector<Described>& members() {
  static const std::vector<Described> kMembers = {
      {"read_token",
       EnumMember<ReadToken, 2>{&Profile::read_token, {"any_string", "empty_or_stars"}}},
      {"read_token_may_be_absent", &Profile::read_token_may_be_absent},
      {"unset_expiry", EnumMember<UnsetExpiry, 3>{&Profile::unset_expiry,
                                                  {"absent_or_null", "null_only", "absent_only"}}},
      {"error_bodies", EnumMember<ErrorBodies, 2>{&Profile::error_bodies, {"hub", "spec"}}},
      {"pat_jwt_may_get_401", &Profile::pat_jwt_may_get_401},
      {"create_may_be_plan_gated", &Profile::create_may_be_plan_gated},
      {"patch_unknown_may_be_400", &Profile::patch_unknown_may_be_400},
      {"delete_any_2xx", &Profile::delete_any_2xx},
      {"malformed_uuid_may_be_400", &Profile::malformed_uuid_may_be_400},
      {"malformed_uuid_may_be_404", &Profile::malformed_uuid_may_be_404},
      {"trailing_slash_may_be_404", &Profile::trailing_slash_may_be_404},
      {"out_of_range_page_may_clamp", &Profile::out_of_range_page_may_clamp},
      {"page_past_end_may_be_404", &Profile::page_past_end_may_be_404},
      {"page_past_end_may_be_empty", &Profile::page_past_end_may_be_empty},
      {"page_links_may_be_relative", &Profile::page_links_may_be_relative},
      {"scope_echo",
       EnumMember<ScopeEcho, 3>{&Profile::scope_echo,
                                {"echo_or_normalised", "echo_only", "normalised_only"}}},
      {"scopes_may_be_absent", &Profile::scopes_may_be_absent},
      {"patch_extras", EnumMember<PatchExtras, 3>{&Profile::patch_extras,
                                                  {"ignored_or_400", "ignored_only", "400_only"}}},
      {"empty_patch_may_be_400", &Profile::empty_patch_may_be_400},
      {"active_count_exact", &Profile::active_count_exact},
      {"secret_prefix", &Profile::secret_prefix},
      {"require_retry_after", &Profile::require_retry_after},
      {"jwt_keyword_may_authenticate", &Profile::jwt_keyword_may_authenticate},
      {"two_factor_password", EnumMember<TwoFactorPassword, 3>{&Profile::two_factor_password,
                                                               {"either", "refused", "accepted"}}},
      {"label_may_be_trimmed", &Profile::label_may_be_trimmed},
      {"info_fields_may_be_null", &Profile::info_fields_may_be_null},
      {"unknown_request_members_may_be_400", &Profile::unknown_request_members_may_be_400},
      {"last_used_null_until_use", &Profile::last_used_null_until_use},
      {"last_used_set_by_use", &Profile::last_used_set_by_use},
      {"auth_token_lifetime_s", &Profile::auth_token_lifetime_s},
      {"two_factor_window_s", &Profile::two_factor_window_s},
      {"clock_skew_s", &Profile::clock_skew_s},
  };
  return kMembers;
}

}  // namespace

Result<Profile> apply_profile_overrides(Profile base, const Json& overrides) {
  if (!overrides.is_object()) {
    return make_error(ErrorKind::kType, "profile overrides: expected an object");
  }
  for (auto it = overrides.begin(); it != overrides.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    const Described* d = nullptr;
    for (const auto& m : members()) {
      if (key == m.name) d = &m;
    }
    if (d == nullptr) {
      return make_error(ErrorKind::kInvalid, "profile overrides: unknown member '" + key + "'");
    }
    Status st = std::visit(
        [&](const auto& m) -> Status {
          using M = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<M, bool Profile::*>) {
            if (!v.is_boolean()) return make_error(ErrorKind::kType, key + ": expected boolean");
            base.*m = v.get<bool>();
          } else if constexpr (std::is_same_v<M, std::int64_t Profile::*>) {
            if (!v.is_number_integer() || v.get<std::int64_t>() < 0) {
              return make_error(ErrorKind::kType, key + ": expected a non-negative integer");
            }
            base.*m = v.get<std::int64_t>();
          } else if constexpr (std::is_same_v<M, std::string Profile::*>) {
            if (!v.is_string()) return make_error(ErrorKind::kType, key + ": expected string");
            base.*m = v.get<std::string>();
          } else {
            if (!v.is_string()) return make_error(ErrorKind::kType, key + ": expected string");
            const std::string s = v.get<std::string>();
            std::string known;
            for (std::size_t i = 0; i < m.names.size(); ++i) {
              if (s == m.names[i]) {
                base.*(m.member) = static_cast<typename M::Enum>(i);
                return Ok{};
              }
              known += (i ? ", " : "") + std::string(m.names[i]);
            }
            return make_error(ErrorKind::kInvalid, key + ": '" + s + "' is not one of " + known);
          }
          return Ok{};
        },
        d->member);
    if (!st.ok()) return make_error(st.error().kind, "profile overrides: " + st.error().message);
  }
  return base;
}

std::vector<std::pair<std::string, std::string>> describe_profile(const Profile& profile) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("name", profile.name);
  for (const auto& d : members()) {
    std::string value = std::visit(
        [&](const auto& m) -> std::string {
          using M = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<M, bool Profile::*>) {
            return profile.*m ? "true" : "false";
          } else if constexpr (std::is_same_v<M, std::int64_t Profile::*>) {
            return std::to_string(profile.*m);
          } else if constexpr (std::is_same_v<M, std::string Profile::*>) {
            return "\"" + profile.*m + "\"";
          } else {
            return m.names[static_cast<std::size_t>(profile.*(m.member))];
          }
        },
        d.member);
    out.emplace_back(d.name, std::move(value));
  }
  return out;
}

}  // namespace patrol::model
