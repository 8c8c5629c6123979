// Live-safety guard (a live target is somebody's account): every token the run creates or renames
// must carry the run's label prefix; PATCH and DELETE go only to uuids this run created (or
// adopted as leftovers of an earlier patrol run); at most max_tokens of the run's tokens exist at
// once.
#pragma once

#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "http/transport.hpp"

namespace patrol::http {

class OwnershipGuard final : public Transport {
 public:
  OwnershipGuard(Transport& inner, std::string label_prefix, std::size_t max_tokens);

  // Refuses (kInvalid, nothing sent) what the rules above forbid; learns uuids from 201s and
  // forgets them after a 204.
  model::Result<model::HttpResponse> send(const model::HttpRequest& request) override;

  // Allows modifying a token that an earlier, crashed patrol run created (sweeping).
  void adopt(const std::string& uuid);
  // Tokens the run created or adopted that have not been deleted yet.
  std::vector<std::string> live_tokens() const;
  const std::string& label_prefix() const { return prefix_; }

 private:
  Transport& inner_;
  std::string prefix_;
  std::size_t max_tokens_;
  mutable std::mutex mu_;
  std::set<std::string> owned_;  // created or adopted, ever
  std::set<std::string> live_;   // owned and not yet deleted
};

}  // namespace patrol::http
