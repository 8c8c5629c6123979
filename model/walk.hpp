// Listing walks (contract 6): E2 pages fetched one after another without writes in between,
// judged as one walk. Every page also goes through the oracle; across pages the results must
// partition the caller's tokens (no token twice, none missing once every page was fetched) and
// count/active_count must not change from page to page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/json_tape.hpp"
#include "model/oracle.hpp"

namespace patrol::model {

// Accumulates the pages of one walk; finish() checks the cross-page rules.
class ListingWalk {
 public:
  explicit ListingWalk(Profile profile) : profile_(std::move(profile)) {}

  // Judges one page exchange with the oracle (updating `state`) and records what it listed.
  std::vector<Violation> add_page(ModelState& state, const HttpRequest& request,
                                  const HttpResponse& response, Timestamp now);

  // Checks the partition and count rules over the pages added so far.
  std::vector<Violation> finish(const ModelState& state) const;

  std::size_t page_count() const { return pages_.size(); }

 private:
  struct Page {
    std::int64_t page = 0;
    std::int64_t page_size = 0;
    int status = 0;
    std::int64_t count = -1;
    std::int64_t active_count = -1;
    std::vector<std::string> uuids;
  };

  Profile profile_;
  std::vector<Page> pages_;
  bool checkable_ = true;  // one caller, one page size, no writes in between
  std::int32_t account_ = -1;
  std::uint32_t generation_ = 0;
  JsonTape tape_;
};

struct WalkVerdict {
  std::vector<Violation> violations;
  ModelState next;
};

// Judges a whole walk: each page with the oracle, then the cross-page rules.
WalkVerdict judge_walk(const ModelState& state, const std::vector<Exchange>& pages,
                       const Profile& profile);

}  // namespace patrol::model
