// Private: AWS IoT fleet provisioning in the gateway (docs/provisioning.md): the templates
// of the config, CreateKeysAndCertificate and CreateCertificateFromCsr under the gateway's
// device CA with certificate ownership tokens, and RegisterThing applying a template's plan
// to the registry, thing groups and policy store — all of it or, on a failure, none of it —
// before the reply. Replies go to the requesting client only.
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/policy/store.hpp>
#include <iotblocks/provisioning/hook.hpp>
#include <iotblocks/provisioning/request.hpp>
#include <iotblocks/provisioning/template.hpp>
#include <iotblocks/provisioning/template_store.hpp>
#include <iotblocks/registry/records.hpp>
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/registry/thing_groups.hpp>
#include <iotblocks/registry/thing_types.hpp>

#include <iotblocks/x509/certificate.hpp>
#include <iotblocks/x509/issue.hpp>

#include "core/group_commit.hpp"
#include "gateway/ownership_tokens.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace iotblocks::gateway {

class security;
class jobs_plane;

/// Where RegisterThing writes.
struct provisioning_stores {
  registry::registry& reg;
  policy::store& policies;
  registry::thing_groups& groups;
  registry::thing_types& types;
};

/// What apply_provisioning_plan changed that others follow (continuous jobs).
struct provisioning_changes {
  std::vector<std::string> added_groups;  ///< groups the thing joined
};

/// The pseudo parameters of a certificate: AWS::IoT::Certificate::Id and the subject fields
/// JITP extracts (CommonName, Country, …).
std::map<std::string, std::string> certificate_parameters(const registry::certificate_record& r);

/// Checks then applies `plan` for the certificate `rec` under the template `template_name`:
/// the thing created or updated (type, attributes, groups) and attached to the certificate,
/// the policies created and attached, the certificate's status. All of it or, when a step
/// fails, none of it (the steps taken are undone). Errors (the message names the path in the
/// template): invalid_template, invalid_parameters, resource_conflict, internal_error.
/// Not thread-safe: one call at a time per set of stores.
result<provisioning_changes> apply_provisioning_plan(const provisioning_stores& s,
                                                     std::string_view template_name,
                                                     const provisioning::plan& plan,
                                                     const registry::certificate_record& rec);

/// Distinct objects: safe. Shared objects: safe.
class provisioning_plane {
 public:
  /// Threads that run what would hold a connection's thread too long: RegisterThing on
  /// templates with a pre-provisioning hook, CreateKeysAndCertificate with RSA keys.
  static constexpr std::size_t workers = 4;
  /// Most such requests waiting (beyond: rejected, LimitExceeded).
  static constexpr std::size_t max_waiting = 1000;
  /// Most requests whose writes share one commit of each store.
  static constexpr std::size_t max_batch = 64;
  ~provisioning_plane();

  /// What the plane takes from the gateway config.
  struct settings {
    /// The role ARN given to the config's templates when they are stored.
    std::string seed_role_arn;
    /// "arn:aws:iot:<region>:<account>:provisioningtemplate/" (the hook's templateArn).
    std::string template_arn_prefix;
    /// Pre-provisioning hook functions by Lambda ARN (outlive the plane).
    const std::vector<custom_authorizer>* hooks = nullptr;
    /// The key CreateKeysAndCertificate makes.
    x509::key_algorithm key_algorithm = x509::key_algorithm::p256;
    /// The outstanding ownership tokens' file (ownership_tokens.hpp); empty: memory only.
    std::string tokens_file{};
  };

  /// Checks the configured templates and stores those `store` does not have yet (enabled,
  /// FLEET_PROVISIONING): the config seeds the store, the store is what RegisterThing uses.
  /// Errors: a template's (its name and path).
  static result<std::unique_ptr<provisioning_plane>> open(
      const std::vector<named_document>& templates, settings s, provisioning::template_store& store,
      security& sec, registry::thing_groups& groups, registry::thing_types& types, jobs_plane& jobs,
      broker::broker& b);

  /// A PUBLISH the broker accepted: a provisioning request is answered on its /accepted or
  /// /rejected topic (to the client `from` only) and true returned; anything else: false.
  /// RegisterThing on a template with a pre-provisioning hook is answered later, from a
  /// worker thread (the hook may take up to its timeout).
  bool on_publish(std::string_view topic, std::string_view payload,
                  const broker::client_info* from);

  /// JITP: a certificate of the CA `ca_id` was just registered PENDING_ACTIVATION; when the
  /// CA has a registrationConfig, its template is applied (thing, policies, status) before
  /// this returns. Returns whether a template was applied; a failure is logged by the caller.
  result<bool> provision_just_in_time(const std::string& certificate_id, const std::string& ca_id);

  /// The claims of the provisioning topics on the reserved-topics gate.
  static const std::vector<std::string>& request_topics();

 private:
  provisioning_plane(provisioning::template_store& store, security& sec,
                     registry::thing_groups& groups, registry::thing_types& types, jobs_plane& jobs,
                     broker::broker& b);
  struct outcome {
    std::error_code code;  ///< empty on success
    std::string payload;   ///< the reply
  };
  /// What a write of a request did, inside the batch's transactions.
  struct applied {
    outcome out;
    std::function<void()> committed;  ///< after the commit, when `out` is a success
    std::function<void()> lost;       ///< when the commit failed (the writes are gone)
  };
  /// The writes of one request, applied on the committer thread with the others queued
  /// with it: one transaction per store for the whole batch (registry, thing groups,
  /// policies), committed before `finish` runs (which replies).
  struct write_job {
    std::function<applied()> apply;
    std::function<void(const outcome&)> finish;
  };
  /// Applies and commits `batch` (the committer thread).
  void commit_batch(std::vector<write_job>& batch);
  /// Queues `apply` and, once committed, replies on `topic`'s reply topic to `client_id`.
  void queue_reply(std::function<applied()> apply, std::string topic, std::string client_id);
  /// Queues `apply` and waits for its committed outcome (JITP, on a handshake thread).
  outcome queue_and_wait(std::function<applied()> apply);
  /// The certificate is made here; its registration and the reply are queued (nullopt),
  /// or the request is refused at once.
  std::optional<outcome> create_keys(std::string_view payload, const std::string& topic,
                                     const std::string& client_id);
  std::optional<outcome> create_from_csr(std::string_view payload, const std::string& topic,
                                         const std::string& client_id);
  /// Registers `cert` INACTIVE with a new ownership token (committer thread).
  applied register_issued(const x509::certificate& cert, const std::string& key_pem);
  /// Who sent a request: its client id and the SHA-256 of its client certificate.
  struct requester {
    std::string client_id;
    std::string claim_certificate_id;
  };
  /// Checks the request, asks the hook (when the template has one), then queues its writes
  /// and the reply; a refusal before that is replied at once.
  void register_thing(std::string_view topic, std::string_view template_name,
                      std::string_view payload, const requester& who);
  /// The writes of RegisterThing (committer thread).
  applied apply_register(const std::string& template_name, const std::string& token,
                         const std::map<std::string, std::string>& parameters);
  /// Publishes `out` on the reply topic of `topic`, to `client_id` only.
  void reply(std::string_view topic, const outcome& out, std::string_view client_id);
  /// Queues `job` for the workers; false when max_waiting are waiting already.
  bool post(std::function<void()> job);
  void run_jobs();
  /// Checks then applies `p` for the certificate `rec` (all steps or none); committer thread.
  applied apply_plan(std::string_view template_name, const provisioning::plan& planned,
                     const registry::certificate_record& rec);
  /// Continuous jobs targeting a group `thing` is in reach it.
  void reach_by_continuous_jobs(const std::string& thing);
  /// The template's pre-provisioning hook's answer for the token's certificate.
  result<provisioning::hook_response> ask_hook(const provisioning::active_template& t,
                                               const std::string& token,
                                               const std::map<std::string, std::string>& parameters,
                                               const requester& who);

  security& sec_;
  registry::thing_groups& groups_;
  registry::thing_types& types_;
  jobs_plane& jobs_;
  broker::broker& broker_;
  provisioning::template_store& store_;
  settings settings_;
  std::unique_ptr<ownership_tokens> tokens_;
  /// Requests waiting for workers_ (post()).
  std::mutex jobs_mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> waiting_;
  std::vector<std::thread> workers_;  ///< started with the first job
  bool stopping_ = false;
  /// Last: stopped (its queue committed) before the rest goes.
  std::unique_ptr<core::group_commit<write_job>> committer_;
};

/// Whether `client_id` may receive a message on `topic`: replies under
/// $aws/certificates/ and $aws/provisioning-templates/ reach only the client whose request
/// they answer (security::authorize asks for iot:Receive).
bool provisioning_reply_receivable(std::string_view client_id, std::string_view topic) noexcept;

}  // namespace iotblocks::gateway
