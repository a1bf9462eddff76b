#include "net/dimse/dimse_server.h"

#include <arpa/inet.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/diutil.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "codec/dcmtk_codecs.h"
#include "net/dimse/admission.h"
#include "net/dimse/association.h"
#include "net/dimse/command_guard.h"
#include "transfer/tls_transport.h"
#include "util/log.h"

namespace strata {
namespace {

// "1.2.3.4", "::1", "[::1]"; an IPv4-mapped peer is reported as its IPv4 address.
std::string AddressString(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof(buf));
  } else if (ss.ss_family == AF_INET6) {
    const auto& a6 = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a6))
      inet_ntop(AF_INET, &a6.s6_addr[12], buf, sizeof(buf));
    else
      inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
  }
  return buf;
}

// Runs FN on a detached thread with an explicit stack size (not the process default, which
// ulimit -s may have shrunk); data sets parsed in memory are bounded before DCMTK recurses.
bool SpawnDetached(std::function<void()> fn) {
  constexpr size_t kStack = 8u << 20;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStack);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  auto* heap = new std::function<void()>(std::move(fn));
  pthread_t t;
  const int rc = pthread_create(
      &t, &attr,
      [](void* p) -> void* {
        std::unique_ptr<std::function<void()>> f(static_cast<std::function<void()>*>(p));
        (*f)();
        return nullptr;
      },
      heap);
  pthread_attr_destroy(&attr);
  if (rc != 0) delete heap;
  return rc == 0;
}

// A listening socket on BIND_ADDR:PORT_NUMBER (0: any free port); (fd, bound port).
Result<std::pair<int, int>> Listen(const std::string& bind_addr, int port_number) {
  std::string host = bind_addr;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* ai = nullptr;
  const std::string port_str = std::to_string(port_number);
  if (int rc = getaddrinfo(host.c_str(), port_str.c_str(), &hints, &ai); rc != 0 || !ai)
    return Status::InvalidArgument("bind address must be an IPv4 or IPv6 address, not '" + bind_addr +
                                   "': " + gai_strerror(rc));
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(ai);
    return Status::FromErrno(errno, "socket");
  }
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // inherited by accepted sockets
  // "::" means every address, IPv4 too (dual-stack), whatever net.ipv6.bindv6only says.
  if (ai->ai_family == AF_INET6 && host == "::") setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  const int rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
  freeaddrinfo(ai);
  if (rc != 0) {
    Status s = Status::FromErrno(errno, "bind " + bind_addr + " port " + port_str);
    close(fd);
    return s;
  }
  if (listen(fd, 128) != 0) {
    Status s = Status::FromErrno(errno, "listen");
    close(fd);
    return s;
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const int port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                                     : reinterpret_cast<sockaddr_in&>(bound).sin_port);
  return std::make_pair(fd, port);
}

}  // namespace

struct DimseServer::Impl {
  Archive* archive;
  DimseOptions opt;
  Admission admission{opt};
  T_ASC_Network* net = nullptr;
  int listen_fd = -1;
  int tls_fd = -1;                             // the TLS port (-1: none)
  // OpenSSL contexts have a role: a server context cannot open a connection (OpenSSL says
  // "called a function you should not call"), so the TLS port and the TLS destinations
  // (C-MOVE sub-associations, commitment reports) each get their own.
  std::unique_ptr<DcmTLSTransportLayer> tls;         // the TLS port (acceptor)
  std::unique_ptr<DcmTLSTransportLayer> tls_client;  // TLS destinations (requestor)

  ~Impl() {
    if (net) ASC_dropNetwork(&net);  // before the TLS layer its transport layer points to
    if (listen_fd >= 0) close(listen_fd);
    if (tls_fd >= 0) close(tls_fd);
  }
};

DimseServer::DimseServer(Archive* archive, DimseOptions options) : impl_(new Impl{archive, std::move(options)}) {}

DimseServer::~DimseServer() {
  stop_ = true;
  // Connection threads hold a pointer to us: wait for them (each ends within its timeouts).
  while (active_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

Result<int> DimseServer::Start() {
  // Nagle off on every DCMTK socket (DCMTK reads this for each connection it opens).
  setenv("TCP_NODELAY", "1", 1);
  codec::RegisterDcmtkCodecs();
  dcmDisableGethostbyaddr.set(OFTrue);
  dcmMaxOutgoingPDUSize.set(impl_->opt.max_pdu);
  dcmSocketSendTimeout.set(impl_->opt.idle_timeout_s);
  dcmSocketReceiveTimeout.set(impl_->opt.idle_timeout_s);
  dcmConnectionTimeout.set(10);

  if (!impl_->opt.plain && impl_->opt.tls_port <= 0)
    return Status::InvalidArgument("the plain DICOM port is off (dimse.plain = false) and no dimse.tls_port is set");
  int port = 0;
  if (impl_->opt.plain) {
    auto plain = Listen(impl_->opt.bind, impl_->opt.port);
    if (!plain.ok()) return plain.status();
    impl_->listen_fd = plain->first;
    port = plain->second;
  }
  if (impl_->opt.tls_port > 0) {
    TlsSettings t{impl_->opt.tls_cert, impl_->opt.tls_key, impl_->opt.tls_ca, impl_->opt.tls_profile,
                  impl_->opt.tls_require_client_cert};
    auto layer = MakeTlsLayer(t, /*server=*/true);
    if (!layer.ok()) return layer.status();
    impl_->tls = std::move(layer).value();
    auto tls = Listen(impl_->opt.bind, impl_->opt.tls_port);
    if (!tls.ok()) return tls.status();
    impl_->tls_fd = tls->first;
    tls_port_ = tls->second;
  }
  if (!impl_->opt.tls_destinations.empty()) {
    // C-MOVE / commitment to TLS destinations: the CA checks them, our certificate (if any)
    // identifies us to them.
    TlsSettings t{impl_->opt.tls_cert, impl_->opt.tls_key, impl_->opt.tls_ca, impl_->opt.tls_profile, true};
    auto layer = MakeTlsLayer(t, /*server=*/false);
    if (!layer.ok()) return layer.status();
    impl_->tls_client = std::move(layer).value();
  }
  // We accept connections ourselves (our bind address, our socket options) and hand each
  // connected socket to DCMTK through dcmExternalSocketHandle, its inetd-style entry. While
  // it is set, network initialisation does not bind a listening socket of its own.
  OFCondition c;
  {
    std::lock_guard<std::mutex> lk(ExternalSocketMutex());
    // TLS only: DCMTK still wants a socket here; it never accepts on it (we do).
    dcmExternalSocketHandle.set(impl_->listen_fd >= 0 ? impl_->listen_fd : impl_->tls_fd);
    c = ASC_initializeNetwork(NET_ACCEPTORREQUESTOR, port > 0 ? port : tls_port_, impl_->opt.idle_timeout_s,
                              &impl_->net);
    dcmExternalSocketHandle.set(-1);
  }
  if (c.bad()) return Status::IOError(std::string("DICOM network init: ") + c.text());
  // A command set is a few hundred bytes and nests no sequence; allow some slack.
  c = ASC_setTransportLayer(impl_->net, new GuardedTransportLayer(64 * 1024, 16, impl_->tls_client.get()), 1);
  if (c.bad()) return Status::Internal(std::string("DICOM transport layer: ") + c.text());
  return port;
}

void DimseServer::Serve() {
  ServiceEnv env{impl_->archive, &impl_->opt, impl_->net, impl_->tls.get()};
  while (!stop_) {
    pollfd pl[2] = {{impl_->listen_fd, POLLIN, 0}, {impl_->tls_fd, POLLIN, 0}};
    if (poll(pl, impl_->tls_fd >= 0 ? 2 : 1, 200) <= 0) continue;
    for (int which = 0; which < 2; ++which)
      if (pl[which].revents & POLLIN) Accept(env, which == 1);
  }
}

void DimseServer::Accept(const ServiceEnv& env, bool tls) {
  {
    sockaddr_storage from{};
    socklen_t from_len = sizeof(from);
    int conn = accept4(tls ? impl_->tls_fd : impl_->listen_fd, reinterpret_cast<sockaddr*>(&from), &from_len,
                       SOCK_CLOEXEC);
    if (conn < 0) return;
    int one = 1;
    setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // Nagle off, whatever the env says
    const std::string peer = AddressString(from);
    // Never wait on the peer here: admission is a counter, the handshake runs on its own thread.
    if (!impl_->admission.AdmitConnection(peer)) {
      close(conn);
      spdlog::warn("event=connection_refused peer={} reason=\"too many connections in their handshake\"", peer);
      return;
    }
    ++active_;
    Impl* impl = impl_.get();
    if (!SpawnDetached([this, impl, env, conn, peer, tls] {
          ServeConnection(env, &impl->admission, conn, peer, tls);
          --active_;
        })) {
      --active_;
      impl_->admission.ConnectionDone(peer);
      close(conn);
      spdlog::error("event=connection_refused peer={} reason=\"cannot start a thread\"", peer);
    }
  }
}

}  // namespace strata
