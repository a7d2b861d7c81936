// AWS IoT fleet provisioning in the gateway: certificates and ownership tokens, and
// RegisterThing applying a template's plan with every step undone when a later one fails.
// The writes of the requests that arrive together are applied by one committer thread in
// one transaction per store (group commit), and replied to once committed.
#include "gateway/provisioning_plane.hpp"

#include "gateway/jobs_plane.hpp"
#include "gateway/provisioning_hooks.hpp"
#include "gateway/security.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/overrides.hpp>
#include <iotblocks/x509/issue.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <functional>
#include <set>

namespace iotblocks::gateway {
namespace {

namespace prov = iotblocks::provisioning;
using prov::error;

constexpr std::string_view certificates_prefix = "$aws/certificates/";
constexpr std::string_view templates_prefix = "$aws/provisioning-templates/";

// The client a reply being published answers (broker::publish delivers on this thread).
thread_local std::string_view reply_target;
thread_local bool replying = false;

failure fail(error e, std::string message) { return failure{e, std::move(message), {}}; }

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), md.data(), &n, EVP_sha256(), nullptr);
  return to_hex(bytes_view(reinterpret_cast<const std::byte*>(md.data()), n));
}

// Steps already applied, undone in reverse when a later one fails.
class undo_log {
 public:
  void add(std::function<void()> f) { steps_.push_back(std::move(f)); }
  void commit() { steps_.clear(); }
  ~undo_log() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) (*it)();
  }

 private:
  std::vector<std::function<void()>> steps_;
};

std::string resource_path(const std::string& logical, std::string_view property) {
  return "Resources." + logical + ".Properties." + std::string(property);
}

}  // namespace

std::map<std::string, std::string> certificate_parameters(const registry::certificate_record& r) {
  std::map<std::string, std::string> out{{"AWS::IoT::Certificate::Id", r.id()}};
  static constexpr std::pair<const char*, const char*> fields[] = {
      {"AWS::IoT::Certificate::CommonName", "CN"},
      {"AWS::IoT::Certificate::Country", "C"},
      {"AWS::IoT::Certificate::Organization", "O"},
      {"AWS::IoT::Certificate::OrganizationalUnit", "OU"},
      {"AWS::IoT::Certificate::DistinguishedNameQualifier", "dnQualifier"},
      {"AWS::IoT::Certificate::StateName", "ST"},
      {"AWS::IoT::Certificate::SerialNumber", "serialNumber"}};
  for (const auto& [name, type] : fields) {
    if (const auto v = r.certificate.subject().get(type); !v.empty()) out.emplace(name, v);
  }
  return out;
}

bool provisioning_reply_receivable(std::string_view client_id, std::string_view topic) noexcept {
  if (!topic.starts_with(certificates_prefix) && !topic.starts_with(templates_prefix)) return true;
  return replying && client_id == reply_target;
}

const std::vector<std::string>& provisioning_plane::request_topics() {
  static const std::vector<std::string> topics{"$aws/certificates/create/json",
                                               "$aws/certificates/create-from-csr/json",
                                               "$aws/provisioning-templates/+/provision/json"};
  return topics;
}

result<std::unique_ptr<provisioning_plane>> provisioning_plane::open(
    const std::vector<named_document>& templates, settings s, prov::template_store& store,
    security& sec, registry::thing_groups& groups, registry::thing_types& types, jobs_plane& jobs,
    broker::broker& b) {
  std::unique_ptr<provisioning_plane> p(new provisioning_plane(store, sec, groups, types, jobs, b));
  p->settings_ = std::move(s);
  // A kill between the commits of a batch (thing groups before the registry) can leave
  // memberships of a thing the registry never got: forgotten before anything is served.
  if (auto* reg = sec.reg()) {
    std::set<std::string> gone;
    for (const auto& g : groups.list()) {
      for (const auto& t : groups.things_in(g)) {
        if (!reg->describe_thing(t)) gone.insert(t);
      }
    }
    for (const auto& t : gone) (void)groups.forget_thing(t);
  }
  auto tokens = ownership_tokens::open(p->settings_.tokens_file);
  if (!tokens) return tokens.fail();
  p->tokens_ = std::move(*tokens);
  auto* plane = p.get();
  p->committer_ = std::make_unique<core::group_commit<write_job>>(
      [plane](std::vector<write_job>& batch) { plane->commit_batch(batch); }, max_batch);
  p->committer_->start();
  for (const auto& t : templates) {
    if (!prov::valid_template_name(t.name)) {
      return fail(error::invalid_template,
                  "provisioning_templates." + t.name + ": a name is 1..36 of [0-9A-Za-z_-]");
    }
    auto parsed = prov::parse_template(t.json);
    if (!parsed) {
      return failure{
          parsed.error(), "provisioning_templates." + t.name + ": " + parsed.describe(), {}};
    }
    if (store.describe(t.name)) continue;  // stored: the store's versions are the template
    prov::stored_template seed;
    seed.name = t.name;
    seed.enabled = true;
    seed.role_arn = p->settings_.seed_role_arn;
    seed.description = "from the gateway config";
    if (auto made = store.create(std::move(seed), t.json); !made) {
      return failure{made.error(), "provisioning_templates." + t.name + ": " + made.describe(), {}};
    }
  }
  return p;
}

provisioning_plane::provisioning_plane(prov::template_store& store, security& sec,
                                       registry::thing_groups& groups, registry::thing_types& types,
                                       jobs_plane& jobs, broker::broker& b)
    : sec_(sec), groups_(groups), types_(types), jobs_(jobs), broker_(b), store_(store) {}

provisioning_plane::~provisioning_plane() {
  {
    std::lock_guard lock(jobs_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
  committer_.reset();  // commits and replies what is queued
}

void provisioning_plane::commit_batch(std::vector<write_job>& batch) {
  auto* reg = sec_.reg();
  auto& policies = sec_.policies();
  auto refuse_all = [&](const failure& f) {
    const outcome out{f.code, prov::rejected_payload(error::internal_error, f.describe())};
    for (auto& j : batch) j.finish(out);
  };
  if (reg == nullptr) return refuse_all(fail(error::internal_error, "the registry is off"));
  if (auto ok = reg->begin_batch(); !ok) return refuse_all(ok.fail());
  if (auto ok = groups_.begin_batch(); !ok) {
    reg->rollback_batch();
    return refuse_all(ok.fail());
  }
  if (auto ok = policies.begin_batch(); !ok) {
    groups_.rollback_batch();
    reg->rollback_batch();
    return refuse_all(ok.fail());
  }
  std::vector<applied> results;
  results.reserve(batch.size());
  for (auto& j : batch) results.push_back(j.apply());
  // The registry last: it activates the certificates, so a crash between the commits of
  // the three files leaves policies and memberships of certificates still INACTIVE.
  auto committed = policies.commit_batch();
  if (committed) {
    committed = groups_.commit_batch();
  } else {
    groups_.rollback_batch();
  }
  // The ownership tokens handed out by the replies are durable before them; spent ones
  // leave the file once the registry has their RegisterThing (a failure: at the next batch).
  if (committed) committed = tokens_->persist_issued();
  if (committed) {
    committed = reg->commit_batch();
  } else {
    reg->rollback_batch();
  }
  if (committed) (void)tokens_->persist_spent();
  sec_.changed();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& r = results[i];
    if (!committed) {
      if (r.lost) r.lost();
      batch[i].finish({error::internal_error,
                       prov::rejected_payload(error::internal_error,
                                              "not committed: " + committed.describe())});
      continue;
    }
    if (!r.out.code && r.committed) r.committed();
    batch[i].finish(r.out);
  }
}

void provisioning_plane::queue_reply(std::function<applied()> apply, std::string topic,
                                     std::string client_id) {
  committer_->push(write_job{std::move(apply),
                             [this, topic = std::move(topic), client_id = std::move(client_id)](
                                 const outcome& out) { reply(topic, out, client_id); }});
}

provisioning_plane::outcome provisioning_plane::queue_and_wait(std::function<applied()> apply) {
  std::mutex m;
  std::condition_variable cv;
  std::optional<outcome> result;
  committer_->push(write_job{std::move(apply), [&](const outcome& out) {
                               std::lock_guard lock(m);
                               result = out;
                               cv.notify_one();
                             }});
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return result.has_value(); });
  return *result;
}

bool provisioning_plane::post(std::function<void()> job) {
  {
    std::lock_guard lock(jobs_mutex_);
    if (waiting_.size() >= max_waiting) return false;
    if (workers_.empty()) {
      for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { run_jobs(); });
    }
    waiting_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void provisioning_plane::run_jobs() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(jobs_mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (waiting_.empty()) return;  // stopping, nothing left
      job = std::move(waiting_.front());
      waiting_.pop_front();
    }
    job();
  }
}

bool provisioning_plane::on_publish(std::string_view topic, std::string_view payload,
                                    const broker::client_info* from) {
  auto t = prov::parse_topic(topic);
  if (!t && t.error() == error::not_a_provisioning_topic) return false;
  requester who;
  if (from != nullptr) {
    who.client_id = from->client_id;
    if (from->peer != nullptr && !from->peer->chain.empty()) {
      const auto& der = from->peer->chain.front();
      who.claim_certificate_id =
          sha256_hex(std::string_view(reinterpret_cast<const char*>(der.data()), der.size()));
    }
  }
  std::optional<outcome> out;
  if (!t) {
    out = outcome{t.error(), prov::rejected_payload(t.error(), t.describe())};
  } else if (t->op == prov::operation::create_keys_and_certificate) {
    out = create_keys(payload, std::string(topic), who.client_id);
  } else if (t->op == prov::operation::create_certificate_from_csr) {
    out = create_from_csr(payload, std::string(topic), who.client_id);
  } else if (auto tmpl = store_.active(t->template_name); tmpl && tmpl->hook) {
    // The hook may take up to its timeout: on a worker, not this connection's thread.
    if (post([this, topic = std::string(topic), payload = std::string(payload),
              name = std::string(t->template_name),
              who] { register_thing(topic, name, payload, who); })) {
      return true;
    }
    out = outcome{error::limit_exceeded, prov::rejected_payload(error::limit_exceeded,
                                                                "too many RegisterThing waiting "
                                                                "for pre-provisioning hooks")};
  } else {
    register_thing(topic, t->template_name, payload, who);
  }
  if (out) reply(topic, *out, who.client_id);
  return true;
}

void provisioning_plane::reply(std::string_view topic, const outcome& out,
                               std::string_view client_id) {
  broker::message m;
  m.topic = prov::reply_topic(topic, !out.code);
  m.payload = to_buffer(out.payload);
  m.qos = 0;  // to the requester's live connection only; never queued for anyone
  replying = true;
  reply_target = client_id;
  broker_.publish(m);
  replying = false;
  reply_target = {};
}

provisioning_plane::applied provisioning_plane::register_issued(const x509::certificate& cert,
                                                                const std::string& key_pem) {
  auto rejected = [](const failure& f) {
    return applied{{f.code, prov::rejected_payload(f.code, f.describe())}, {}, {}};
  };
  // Registered INACTIVE: RegisterThing activates it as the template says.
  auto id = sec_.reg()->register_certificate(cert, registry::certificate_status::inactive,
                                             &sec_.ca().certificate);
  if (!id) return rejected(fail(error::internal_error, id.describe()));
  auto token = tokens_->issue(*id);
  if (!token) return rejected(token.fail());
  auto forget = [this, t = *token] { tokens_->forget(t); };
  auto payload = key_pem.empty() ? prov::create_from_csr_accepted(*id, cert.pem(), *token)
                                 : prov::create_keys_accepted(*id, cert.pem(), key_pem, *token);
  return {{{}, std::move(payload)}, {}, std::move(forget)};
}

std::optional<provisioning_plane::outcome> provisioning_plane::create_keys(
    std::string_view payload, const std::string& topic, const std::string& client_id) {
  auto rejected = [](const failure& f) {
    return outcome{f.code, prov::rejected_payload(f.code, f.describe())};
  };
  if (auto ok = prov::parse_create_keys(payload); !ok) return rejected(ok.fail());
  if (sec_.reg() == nullptr) return rejected(fail(error::internal_error, "the registry is off"));
  // The key and certificate: an elliptic-curve key here, on the connection's thread (well
  // under a millisecond); an RSA key (tens to hundreds of milliseconds) on a worker, so the
  // connections of this thread do not wait for it. The write with the others.
  auto issue = [this, topic, client_id] {
    auto issued = sec_.issue_device("AWS IoT Certificate", settings_.key_algorithm);
    if (!issued) {
      const auto f = fail(error::internal_error, issued.describe());
      return reply(topic, {f.code, prov::rejected_payload(f.code, f.describe())}, client_id);
    }
    auto made = std::make_shared<std::pair<x509::certificate, std::string>>(
        std::move(issued->first), issued->second.pem());
    queue_reply([this, made] { return register_issued(made->first, made->second); }, topic,
                client_id);
  };
  const auto alg = settings_.key_algorithm;
  if (alg != x509::key_algorithm::rsa_2048 && alg != x509::key_algorithm::rsa_3072) {
    issue();
  } else if (!post(issue)) {
    return rejected(fail(error::limit_exceeded, "too many CreateKeysAndCertificate waiting"));
  }
  return std::nullopt;
}

std::optional<provisioning_plane::outcome> provisioning_plane::create_from_csr(
    std::string_view payload, const std::string& topic, const std::string& client_id) {
  auto rejected = [](const failure& f) {
    return outcome{f.code, prov::rejected_payload(f.code, f.describe())};
  };
  auto csr = prov::parse_create_from_csr(payload);
  if (!csr) return rejected(csr.fail());
  if (sec_.reg() == nullptr) return rejected(fail(error::internal_error, "the registry is off"));
  x509::certificate_request req;
  req.client_auth = true;
  req.days = 365;
  auto cert = x509::issue_from_csr(*csr, req, sec_.ca().certificate, sec_.ca().key);
  if (!cert) {
    return rejected(
        fail(error::certificate_invalid, "certificateSigningRequest: " + cert.describe()));
  }
  auto made = std::make_shared<x509::certificate>(std::move(*cert));
  queue_reply([this, made] { return register_issued(*made, {}); }, topic, client_id);
  return std::nullopt;
}

result<bool> provisioning_plane::provision_just_in_time(const std::string& certificate_id,
                                                        const std::string& ca_id) {
  auto t = store_.jitp_template(ca_id);
  if (!t) return false;  // no registrationConfig: JITR only
  if (!t->enabled)
    return fail(error::template_not_found, "JITP template " + t->name + " is disabled");
  auto* reg = sec_.reg();
  if (reg == nullptr) return fail(error::internal_error, "the registry is off");
  const auto record = reg->find_certificate(certificate_id);
  if (!record) return fail(error::internal_error, "the certificate is not registered");
  auto plan = prov::evaluate(t->parsed, {}, certificate_parameters(*record));
  if (!plan) return plan.fail();
  auto out = queue_and_wait([&] {
    // The record again: a batch applied before this one may have changed it.
    const auto now = sec_.reg()->find_certificate(certificate_id);
    if (!now) {
      return applied{{error::internal_error, "the certificate is not registered"}, {}, {}};
    }
    return apply_plan(t->name, *plan, *now);
  });
  if (out.code) return failure{out.code, out.payload, {}};
  return true;
}

result<prov::hook_response> provisioning_plane::ask_hook(
    const prov::active_template& t, const std::string& token,
    const std::map<std::string, std::string>& parameters, const requester& who) {
  prov::hook_request r;
  if (auto cert = tokens_->certificate_of(token)) {
    r.certificate_id = std::move(*cert);
  } else {
    return fail(error::invalid_ownership_token,
                "Certificate ownership token is invalid or expired.");
  }
  const auto record = sec_.reg()->find_certificate(r.certificate_id);
  if (!record) return fail(error::invalid_ownership_token, "the token's certificate is gone");
  r.certificate_pem = record->certificate.pem();
  r.client_id = who.client_id;
  r.claim_certificate_id = who.claim_certificate_id;
  r.template_arn = settings_.template_arn_prefix + t.name;
  r.parameters = parameters;
  static const std::vector<custom_authorizer> none;
  return provisioning_hooks::ask(settings_.hooks != nullptr ? *settings_.hooks : none,
                                 t.hook->target_arn, r);
}

void provisioning_plane::register_thing(std::string_view topic, std::string_view template_name,
                                        std::string_view payload, const requester& who) {
  auto refuse = [&](const failure& f) {
    reply(topic, {f.code, prov::rejected_payload(f.code, f.describe())}, who.client_id);
  };
  auto req = prov::parse_register_thing(payload);
  if (!req) return refuse(req.fail());
  const auto tmpl = store_.active(template_name);
  if (!tmpl) {
    return refuse(fail(error::template_not_found,
                       "no provisioning template '" + std::string(template_name) + "'"));
  }
  if (!tmpl->enabled) {
    return refuse(fail(error::template_not_found,
                       "provisioning template '" + std::string(template_name) + "' is disabled"));
  }
  if (tmpl->type != prov::fleet_provisioning_type) {
    return refuse(fail(error::invalid_request, "provisioning template '" +
                                                   std::string(template_name) +
                                                   "' is a JITP template, not for RegisterThing"));
  }
  if (sec_.reg() == nullptr) return refuse(fail(error::internal_error, "the registry is off"));
  auto parameters = req->parameters;
  if (tmpl->hook) {
    auto answer = ask_hook(*tmpl, req->ownership_token, req->parameters, who);
    if (!answer) return refuse(answer.fail());
    if (!answer->allow) {
      return refuse(fail(error::access_denied, "the pre-provisioning hook refused the device"));
    }
    for (auto& [k, v] : answer->overrides) parameters[k] = std::move(v);
  }
  queue_reply(
      [this, name = std::string(template_name), token = std::move(req->ownership_token),
       parameters = std::move(parameters)] { return apply_register(name, token, parameters); },
      std::string(topic), who.client_id);
}

provisioning_plane::applied provisioning_plane::apply_register(
    const std::string& template_name, const std::string& token,
    const std::map<std::string, std::string>& parameters) {
  auto rejected = [](const failure& f) {
    return applied{{f.code, prov::rejected_payload(f.code, f.describe())}, {}, {}};
  };
  // The template again: it may have changed while the request waited.
  const auto tmpl = store_.active(template_name);
  if (!tmpl || !tmpl->enabled) {
    return rejected(fail(error::template_not_found,
                         "provisioning template '" + template_name + "' is gone or disabled"));
  }
  // The committer thread applies one request at a time: its checks hold until the commit.
  const auto cert_id = tokens_->certificate_of(token);
  if (!cert_id) {
    return rejected(
        fail(error::invalid_ownership_token, "Certificate ownership token is invalid or expired."));
  }
  const auto record = sec_.reg()->find_certificate(*cert_id);
  if (!record) {
    return rejected(fail(error::invalid_ownership_token, "the token's certificate is gone"));
  }
  auto plan = prov::evaluate(tmpl->parsed, parameters, certificate_parameters(*record));
  if (!plan) return rejected(plan.fail());
  auto out = apply_plan(template_name, *plan, *record);
  if (out.out.code) return out;
  // Spent at once (a second request of the batch with it is refused); usable again when
  // the commit fails.
  auto spent = tokens_->spend(token);
  out.lost = [this, token, spent, also = std::move(out.lost)] {
    if (also) also();
    if (spent) tokens_->restore(token, *spent);
  };
  return out;
}

result<provisioning_changes> apply_provisioning_plan(const provisioning_stores& s,
                                                     std::string_view template_name,
                                                     const prov::plan& planned,
                                                     const registry::certificate_record& rec) {
  auto fail_with = [](const failure& f) { return failure{f.code, f.describe(), {}}; };
  auto* reg = &s.reg;
  const auto* plan = &planned;
  const auto* record = &rec;
  const std::string cert_id = rec.id();
  // Checks first: nothing is written unless every step can be taken.
  if (plan->certificate) {
    const auto& c = *plan->certificate;
    const std::string where = "Resources." + c.logical_name + ".Properties";
    if (c.id.empty()) {
      return fail_with(
          fail(error::invalid_template, where + ": fleet provisioning takes CertificateId "
                                                "{\"Ref\": \"AWS::IoT::Certificate::Id\"}"));
    }
    if (c.id != cert_id) {
      return fail_with(fail(error::invalid_template,
                            where + ".CertificateId: not the certificate of the ownership token"));
    }
  }
  std::optional<registry::thing> existing;
  registry::thing next;
  prov::thing_changes changes;
  if (plan->thing) {
    const auto& t = *plan->thing;
    std::optional<prov::existing_thing> now;
    if (auto d = reg->describe_thing(t.name)) {
      existing = std::move(*d);
      now = prov::existing_thing{existing->type, existing->attributes, s.groups.groups_of(t.name)};
    }
    auto c = prov::thing_changes_for(t, now ? &*now : nullptr);
    if (!c) return fail_with(c.fail());
    changes = std::move(*c);
    for (const auto& g : changes.add_groups) {
      if (!s.groups.describe(g)) {
        return fail_with(
            fail(error::invalid_parameters,
                 resource_path(t.logical_name, "ThingGroups") + ": no thing group '" + g + "'"));
      }
    }
    if (!changes.type.empty() && (!existing || existing->type != changes.type)) {
      if (auto ok = s.types.assignable(changes.type); !ok) {
        return fail_with(
            fail(error::invalid_parameters,
                 resource_path(t.logical_name, "ThingTypeName") + ": " + ok.describe()));
      }
    }
    next = existing.value_or(registry::thing{t.name, {}, {}, 0});
    next.type = changes.type;
    next.attributes = changes.attributes;
  }
  struct policy_step {
    std::string name;
    std::string document;  ///< to create when not there yet
  };
  std::vector<policy_step> policies;
  for (const auto& p : plan->policies) {
    if (!p.name.empty()) {
      if (!s.policies.get_policy(p.name)) {
        return fail_with(fail(error::invalid_template, resource_path(p.logical_name, "PolicyName") +
                                                           ": no policy '" + p.name + "'"));
      }
      policies.push_back({p.name, {}});
    } else {
      // A document: a policy named after the template, the resource and the document.
      std::string name = std::string(template_name) + "_" + p.logical_name + "_" +
                         sha256_hex(p.document).substr(0, 16);
      policies.push_back({std::move(name), p.document});
    }
  }

  // Apply, undoing every step taken when a later one fails.
  undo_log undo;
  auto failed = [](const failure& f) { return fail(error::internal_error, f.describe()); };
  if (plan->thing) {
    const auto& name = plan->thing->name;
    if (!existing) {
      if (auto ok = reg->create_thing(next); !ok) return failed(ok.fail());
      undo.add([reg, name] { (void)reg->delete_thing(name); });
    } else if (changes.type_or_attributes_change) {
      if (auto ok = reg->update_thing(next, existing->version); !ok) return failed(ok.fail());
      undo.add([reg, old = *existing] { (void)reg->update_thing(old); });
    }
    for (const auto& g : changes.drop_groups) {
      if (auto ok = s.groups.remove_thing(g, name); !ok) return failed(ok.fail());
      undo.add([&s, g, name] { (void)s.groups.add_thing(g, name); });
    }
    for (const auto& g : changes.add_groups) {
      if (auto ok = s.groups.add_thing(g, name); !ok) return failed(ok.fail());
      undo.add([&s, g, name] { (void)s.groups.remove_thing(g, name); });
    }
    const auto& attached = record->things;
    if (std::none_of(attached.begin(), attached.end(),
                     [&](const registry::thing& a) { return a.name == name; })) {
      if (auto ok = reg->attach_thing(name, cert_id); !ok) return failed(ok.fail());
      undo.add([reg, name, cert_id] { (void)reg->detach_thing(name, cert_id); });
    }
  }
  for (const auto& p : policies) {
    if (!p.document.empty() && !s.policies.get_policy(p.name)) {
      if (auto ok = s.policies.create_policy(p.name, p.document); !ok) {
        return fail_with(fail(error::invalid_template, "PolicyDocument: " + ok.describe()));
      }
      undo.add([&s, n = p.name] { (void)s.policies.delete_policy(n); });
    }
    if (auto ok = s.policies.attach_policy(p.name, cert_id); !ok) return failed(ok.fail());
    undo.add([&s, n = p.name, cert_id] { (void)s.policies.detach_policy(n, cert_id); });
  }
  if (plan->certificate) {
    const auto status = plan->certificate->active ? registry::certificate_status::active
                                                  : registry::certificate_status::inactive;
    if (status != record->status) {
      if (auto ok = reg->update_certificate(cert_id, status); !ok) return failed(ok.fail());
      undo.add(
          [reg, cert_id, old = record->status] { (void)reg->update_certificate(cert_id, old); });
    }
  }
  undo.commit();
  return provisioning_changes{changes.add_groups};
}

provisioning_plane::applied provisioning_plane::apply_plan(
    std::string_view template_name, const prov::plan& planned,
    const registry::certificate_record& rec) {
  auto* reg = sec_.reg();
  if (reg == nullptr) {
    return {{make_error_code(error::internal_error),
             prov::rejected_payload(error::internal_error, "the registry is off")},
            {},
            {}};
  }
  auto made = apply_provisioning_plan({*reg, sec_.policies(), groups_, types_}, template_name,
                                      planned, rec);
  if (!made) {
    return {{made.error(), prov::rejected_payload(made.error(), made.fail().describe())}, {}, {}};
  }
  sec_.changed();
  const auto* plan = &planned;
  const auto& changes = *made;

  applied out{
      {{},
       prov::register_thing_accepted(plan->device_configuration,
                                     plan->thing ? std::string_view(plan->thing->name) : "")},
      {},
      {}};
  // Continuous jobs that target a group the thing joined reach it once committed.
  if (plan->thing && !changes.added_groups.empty()) {
    out.committed = [this, thing = plan->thing->name] { reach_by_continuous_jobs(thing); };
  }
  return out;
}

void provisioning_plane::reach_by_continuous_jobs(const std::string& thing) {
  {
    const auto member_of = groups_.memberships(thing);
    auto& store = jobs_.store();
    for (const auto& id : store.job_ids()) {
      auto j = store.find_job(id);
      if (!j || !j->continuous || j->status != jobs::job_status::in_progress) continue;
      const bool targeted = std::any_of(j->targets.begin(), j->targets.end(), [&](const auto& t) {
        return t.starts_with("thinggroup/") &&
               std::binary_search(member_of.begin(), member_of.end(), t.substr(11));
      });
      if (!targeted) continue;
      if (auto out = jobs_.service().add_target(id, thing)) jobs_.publish(std::move(*out));
    }
  }
}

}  // namespace iotblocks::gateway
