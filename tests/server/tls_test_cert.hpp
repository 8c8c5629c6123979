// Test helper: a throw-away self-signed certificate for 127.0.0.1 (EC P-256), generated with
// OpenSSL at test time and written to a fresh temporary directory, so no private key is ever
// committed.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

namespace patrol::server::testing {

struct TestCertificate {
  std::string dir;
  std::string cert_file;
  std::string key_file;
};

// Writes cert.pem and key.pem into a new directory under `parent`; nullopt when OpenSSL fails.
inline std::optional<TestCertificate> make_test_certificate(const std::string& parent) {
  std::string pattern = parent + "/patrol-tls-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return std::nullopt;
  TestCertificate out{pattern, pattern + "/cert.pem", pattern + "/key.pem"};

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) return std::nullopt;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) return std::nullopt;
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return std::nullopt;

  FILE* c = std::fopen(out.cert_file.c_str(), "wb");
  FILE* k = std::fopen(out.key_file.c_str(), "wb");
  bool ok = c != nullptr && k != nullptr && PEM_write_X509(c, cert.get()) == 1 &&
            PEM_write_PrivateKey(k, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (c != nullptr) std::fclose(c);
  if (k != nullptr) std::fclose(k);
  if (!ok) return std::nullopt;
  return out;
}

// Removes the files and directory of a test certificate.
inline void remove_test_certificate(const TestCertificate& c) {
  std::remove(c.cert_file.c_str());
  std::remove(c.key_file.c_str());
  std::remove(c.dir.c_str());
}

}  // namespace patrol::server::testing
