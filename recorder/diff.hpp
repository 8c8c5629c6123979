// Compares a recorded response with a live one after normalising what legitimately changes
// between runs: uuids, timestamps, secrets, JWT iat/exp/nbf/jti, the client address
// (creator_ip) and the origin inside absolute URLs. Used by `patrol replay`.
#pragma once

#include <string>
#include <vector>

#include "model/http_message.hpp"
#include "model/types.hpp"

namespace patrol::recorder {

// One difference: where ("status", "header Content-Type", "body.results[2].token_label") and
// the two normalised values, secrets masked.
struct Difference {
  std::string where;
  std::string recorded;
  std::string live;
};

// Returns the normalised form of a JSON body. JWTs become {"jwt_claims": {...}} with their
// volatile claims replaced; lists named "results" are sorted (their order is unspecified).
model::Json normalise_body(const model::Json& body);

// Lists the differences in status, Content-Type and body (JSON compared after normalisation,
// other bodies byte for byte). At most `limit` are returned.
std::vector<Difference> diff_responses(const model::HttpResponse& recorded,
                                       const model::HttpResponse& live, std::size_t limit = 20);

}  // namespace patrol::recorder
