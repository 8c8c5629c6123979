// The fault catalogue of the reference server: named, realistic defects (mutants) that
// `patrol serve --fault NAME` switches on one by one, so that patrol's checks can be shown to
// catch each of them. Every entry names the CONTRACT.md section whose rule it breaks.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace patrol::server {

// One defect per enumerator, in catalogue order (fault_catalogue()[i] describes Fault(i)).
enum class Fault : std::uint8_t {
  // Secret leaks (contract 3.1).
  kLeakSecretOnGet,
  kLeakSecretInList,
  kLeakSecretOnPatch,
  kLeakSecretInError,
  kLeakSecretInHeader,
  // Lifecycle (contract 1, 3).
  kCreatedInactive,
  kInactiveTokenAuthenticates,
  kExpiredTokenAuthenticates,
  kDeletedTokenAuthenticates,
  kDeletedTokenReadable,
  kDeleteAffectsNeighbour,
  kDeactivateAffectsNeighbour,
  kPatchExpiredAllowed,
  kPatchAppliesScopes,
  kLastUsedNotUpdated,
  kDelete200WithBody,
  // Validation (contract 2, 3.2-3.4).
  kLabelLengthBytes,
  kLabelOffByOne,
  kEmptyLabelAccepted,
  kEmptyScopesAccepted,
  kUnknownScopeAccepted,
  kScopeNormalisedToLowest,
  kPastExpiryAccepted,
  kExpiryOffsetIgnored,
  // Authentication and authorisation (contract 1, 4).
  kPatJwtManagesTokens,
  kRawPatAsBearer,
  kJwtSignatureUnchecked,
  kExpiredSessionAccepted,
  kCrossAccountRead,
  kForbiddenConfirmsExistence,
  kListShowsAllAccounts,
  kAuthTokenIgnoresIdentifier,
  kSecondFactorSkipped,
  kAuthTokenLongLived,
  kPatJwtWithoutScope,
  // Registry grants (contract 5).
  kPublicReadPullsPrivate,
  kWriteGrantsDelete,
  kAdminLacksDelete,
  kOtherPrivatePullable,
  kAnonymousPullsPrivate,
  // Listing (contract 6).
  kPageOverlap,
  kNextOnLastPage,
  kCountExcludesInactive,
  kActiveCountIncludesExpired,
  kPageSizeUnbounded,
  // Error bodies and statuses (contract 1, 3.7, 7).
  kHtml500MalformedUuid,
  kPatchUnknownUuid500,
  kErrorBodyNotJson,
  kErrorWithoutMessage,
  kRetryAfterMissing,
  // Concurrency (contract 3.9, 6, 8).
  kLostUpdatePatch,
  kCreateVisibleBeforeReadable,
  kCountDrift,
};

inline constexpr std::size_t kFaultCount = static_cast<std::size_t>(Fault::kCountDrift) + 1;

struct FaultInfo {
  std::string_view name;         // kebab-case, as given to --fault
  std::string_view section;      // CONTRACT.md section, e.g. "3.1" or "5"
  std::string_view description;  // one line
};

// Returns every fault, indexed by the Fault enumerator's value.
std::span<const FaultInfo> fault_catalogue();

// Returns the catalogue entry of one fault.
const FaultInfo& fault_info(Fault fault);

// Finds a fault by its exact name.
std::optional<Fault> find_fault(std::string_view name);

// Returns catalogue names close to an unknown name (small edit distance or shared words), best
// first, at most `limit`.
std::vector<std::string> near_fault_names(std::string_view name, std::size_t limit = 3);

// A set of active faults.
class FaultSet {
 public:
  bool has(Fault f) const { return bits_.test(static_cast<std::size_t>(f)); }
  void add(Fault f) { bits_.set(static_cast<std::size_t>(f)); }
  bool empty() const { return bits_.none(); }
  // Returns the names of the active faults in catalogue order.
  std::vector<std::string> names() const;

 private:
  std::bitset<kFaultCount> bits_;
};

// Resolves names into a set; an unknown name is a kInvalid error naming it and its near matches.
model::Result<FaultSet> parse_faults(const std::vector<std::string>& names);

}  // namespace patrol::server
