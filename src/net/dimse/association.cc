#include "net/dimse/association.h"

#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dul.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>

#include "net/dimse/dimse_permissions.h"
#include "net/dimse/negotiation.h"
#include "net/dimse/storage_commitment_service.h"
#include "net/dimse/tls_acceptor.h"
#include "util/audit_log.h"
#include "util/log.h"

namespace strata {
namespace {

// "" when the calling AE may run MSG (dimse_permissions.h), else why not.
std::string Refusal(const DimseOptions& opt, const T_DIMSE_Message& msg, const std::string& calling) {
  switch (msg.CommandField) {
    case DIMSE_C_STORE_RQ:
    case DIMSE_N_ACTION_RQ:
      return ServiceRefusal(opt, calling, DimseService::kStore);
    case DIMSE_C_FIND_RQ:
      return ServiceRefusal(opt, calling, DimseService::kFind);
    case DIMSE_C_GET_RQ:
      return ServiceRefusal(opt, calling, DimseService::kRetrieve);
    case DIMSE_C_MOVE_RQ: {
      std::string why = ServiceRefusal(opt, calling, DimseService::kRetrieve);
      return why.empty() ? MoveDestinationRefusal(opt, calling, TrimDicom(msg.msg.CMoveRQ.MoveDestination)) : why;
    }
    default:
      return "";
  }
}

const char* ServiceName(T_DIMSE_Command c) {
  switch (c) {
    case DIMSE_C_STORE_RQ: return "C-STORE";
    case DIMSE_C_FIND_RQ: return "C-FIND";
    case DIMSE_C_GET_RQ: return "C-GET";
    case DIMSE_C_MOVE_RQ: return "C-MOVE";
    case DIMSE_N_ACTION_RQ: return "N-ACTION";
    default: return "?";
  }
}

OFCondition Dispatch(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                     T_DIMSE_Message& msg, AssocStats* st, std::vector<CommitmentReport>* deferred) {
  if (std::string why = Refusal(*env.opt, msg, st->calling); !why.empty()) {
    ++st->failures;
    spdlog::warn("event=dimse_denied peer={} calling={} service={} reason=\"{}\"", st->peer, st->calling,
                 ServiceName(msg.CommandField), why);
    if (env.opt->audit != nullptr) {
      AuditEvent e;
      e.action = "deny";
      e.success = false;
      e.detail = why;
      e.protocol = "DIMSE";
      e.ae = st->calling;
      e.address = st->peer;
      e.target = ServiceName(msg.CommandField);
      if (msg.CommandField == DIMSE_C_MOVE_RQ) e.destination = TrimDicom(msg.msg.CMoveRQ.MoveDestination);
      if (msg.CommandField == DIMSE_C_STORE_RQ) e.instances = {TrimDicom(msg.msg.CStoreRQ.AffectedSOPInstanceUID)};
      env.opt->audit->RecordAccess(e);
    }
    return RefuseCommand(assoc, pc, msg, why, env.opt->idle_timeout_s);
  }
  switch (msg.CommandField) {
    case DIMSE_C_ECHO_RQ:
      ++st->echo;
      return DIMSE_sendEchoResponse(assoc, pc, &msg.msg.CEchoRQ, STATUS_Success, nullptr);
    case DIMSE_C_STORE_RQ:
      ++st->store;
      return HandleStore(env, assoc, pc, msg.msg.CStoreRQ, st);
    case DIMSE_C_FIND_RQ:
      ++st->find;
      return HandleFind(env, assoc, pc, msg.msg.CFindRQ, st);
    case DIMSE_C_GET_RQ:
      ++st->get;
      return HandleGet(env, assoc, pc, msg.msg.CGetRQ, st);
    case DIMSE_C_MOVE_RQ:
      ++st->move;
      return HandleMove(env, assoc, pc, msg.msg.CMoveRQ, st);
    case DIMSE_N_ACTION_RQ:
      return HandleStorageCommitment(env, assoc, pc, msg.msg.NActionRQ, st, deferred);
    default:
      return DIMSE_BADCOMMANDTYPE;
  }
}

}  // namespace

std::mutex& ExternalSocketMutex() {
  static std::mutex mu;
  return mu;
}

Status AwaitAssociateRq(int fd, int timeout_ms, size_t max_pdu_bytes) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string buf(6, '\0');
  size_t need = 6;
  for (;;) {
    ssize_t n = recv(fd, buf.data(), need, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return Status::Unavailable("peer closed the connection before A-ASSOCIATE-RQ");
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return Status::FromErrno(errno, "reading A-ASSOCIATE-RQ");
    if (n >= 6 && need == 6) {
      if (static_cast<unsigned char>(buf[0]) != 0x01)
        return Status::InvalidArgument("first PDU is not an A-ASSOCIATE-RQ");
      const uint32_t len = (static_cast<uint32_t>(static_cast<unsigned char>(buf[2])) << 24) |
                           (static_cast<unsigned char>(buf[3]) << 16) | (static_cast<unsigned char>(buf[4]) << 8) |
                           static_cast<unsigned char>(buf[5]);
      if (len > max_pdu_bytes)
        return Status::InvalidArgument("A-ASSOCIATE-RQ of " + std::to_string(len) + " bytes (at most " +
                                       std::to_string(max_pdu_bytes) + ")");
      need = 6 + len;
      buf.resize(need);
      continue;
    }
    if (n >= 0 && static_cast<size_t>(n) >= need) return Status::OK();
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::Unavailable("no complete A-ASSOCIATE-RQ within the handshake timeout");
    if (n > 0) {
      // Part of the PDU is buffered, so poll would not wait: sleep a little instead.
      poll(nullptr, 0, static_cast<int>(std::min<int64_t>(left.count(), 5)));
    } else {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, static_cast<int>(left.count()));
    }
  }
}

void ServeConnection(const ServiceEnv& env, Admission* admission, int fd, const std::string& peer, bool tls) {
  const auto t0 = std::chrono::steady_clock::now();
  AssocStats st;
  st.peer = peer;
  st.tls = tls;
  bool admitted = false, pending = true, query_only = false;
  T_ASC_Association* assoc = nullptr;
  std::vector<CommitmentReport> deferred;  // commitment reports for a new association
  // The whole A-ASSOCIATE-RQ is in our receive buffer (or, for TLS, read into the parked
  // connection) before DCMTK reads it under the hand-over lock, so neither that lock nor the
  // accept loop ever waits on a peer.
  Status rq;
  if (tls) {
    auto accepted = AcceptTls(env.tls, fd, env.opt->handshake_timeout_s * 1000, kMaxAssociateRqBytes,
                              env.opt->idle_timeout_s);
    if (accepted.ok()) {
      st.tls_identities = std::move(accepted->identities);
      HandOver(fd, std::move(accepted->connection));
    } else {
      rq = accepted.status();  // AcceptTls closed FD
    }
  } else {
    rq = AwaitAssociateRq(fd, env.opt->handshake_timeout_s * 1000, kMaxAssociateRqBytes);
    if (!rq.ok()) close(fd);
  }
  if (!rq.ok()) {
    st.status = "handshake: " + rq.message();
  } else {
    OFCondition c;
    std::unique_ptr<DcmTransportConnection> unclaimed;
    {
      std::lock_guard<std::mutex> lk(ExternalSocketMutex());
      dcmExternalSocketHandle.set(fd);
      c = ASC_receiveAssociation(env.net, &assoc, env.opt->max_pdu, nullptr, nullptr, OFFalse, DUL_BLOCK,
                                 env.opt->handshake_timeout_s);
      dcmExternalSocketHandle.set(-1);
      // A parked TLS connection DCMTK never asked for must not outlive this socket number.
      if (tls) unclaimed = TakeHandedOver(fd);
    }
    if (c.bad()) {
      st.status = std::string("association failed: ") + c.text();
      if (!assoc && !unclaimed) close(fd);  // an unclaimed connection closes FD itself
    } else {
      const bool ok = Negotiate(assoc, *env.opt, admission, &st, &admitted, &query_only);
      admission->ConnectionDone(peer);  // no longer in its handshake
      pending = false;
      if (ok) {
        for (;;) {
          T_DIMSE_Message msg;
          T_ASC_PresentationContextID pc_id = 0;
          DcmDataset* status_detail = nullptr;
          OFCondition c =
              DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, env.opt->idle_timeout_s, &pc_id, &msg, &status_detail);
          delete status_detail;
          if (c == DUL_PEERREQUESTEDRELEASE) {
            ASC_acknowledgeRelease(assoc);
            break;
          }
          if (c == DUL_PEERABORTEDASSOCIATION) {
            st.status = "aborted by peer";
            break;
          }
          if (c == DIMSE_NODATAAVAILABLE) {
            st.status = "idle timeout";
            ASC_abortAssociation(assoc);
            break;
          }
          if (c.bad()) {
            st.status = std::string("receive failed: ") + c.text();
            ASC_abortAssociation(assoc);
            break;
          }
          c = Dispatch(env, assoc, pc_id, msg, &st, &deferred);
          if (c.bad()) {
            st.status = std::string("service failed: ") + c.text();
            ASC_abortAssociation(assoc);
            break;
          }
        }
      }
    }
    if (assoc) {
      ASC_dropSCPAssociation(assoc);
      ASC_destroyAssociation(&assoc);
    }
  }
  // After the requester's association is over: it may accept only one association at a time.
  for (const CommitmentReport& r : deferred)
    if (!DeliverCommitmentReport(env, r).ok()) ++st.failures;  // logged by DeliverCommitmentReport
  if (env.opt->audit != nullptr && st.status.rfind("rejected", 0) == 0) {  // refused at negotiation
    AuditEvent e = DimseAudit(st, "reject", "A-ASSOCIATE");
    e.success = false;
    e.detail = st.status;
    env.opt->audit->RecordAccess(e);
  }
  if (pending) admission->ConnectionDone(peer);
  if (admitted) admission->AssociationDone(st.peer, st.calling, query_only);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info(
      "event=association peer={} calling={} called={} tls=\"{}\" echo={} store={} find={} move={} get={} commit={} "
      "instances_in={} bytes_in={} instances_out={} bytes_out={} failures={} warnings={} seconds={:.3f} "
      "mb_per_s={:.1f} store_ms=\"receive:{:.0f} scan:{:.0f} sync:{:.0f} place:{:.0f} commit:{:.0f} respond:{:.0f}\" "
      "status=\"{}\"",
      st.peer, st.calling, st.called,
      !st.tls ? std::string("-") : st.tls_identities.empty() ? std::string("anonymous") : st.tls_identities.front(),
      st.echo, st.store, st.find, st.move, st.get, st.commit, st.instances_in, st.bytes_in,
      st.instances_out, st.bytes_out, st.failures, st.warnings, secs,
      secs > 0 ? (st.bytes_in + st.bytes_out) / 1e6 / secs : 0.0, st.receive_us / 1e3, st.scan_us / 1e3,
      st.sync_us / 1e3, st.place_us / 1e3, st.commit_us / 1e3, st.respond_us / 1e3, st.status);
}

}  // namespace strata
