#include "net/web/http_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/log.h"
#include "util/quick_ack.h"

namespace strata::web {
namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  std::string buf;  // bytes received but not yet parsed (the next request's start)
  size_t pos = 0;
  int served = 0;
  Clock::time_point deadline;
  bool in_request = false;  // first byte of a request seen (header deadline applies)
  SSL* ssl = nullptr;       // HTTPS: the connection's TLS state (owned)
  bool handshaken = false;  // HTTPS: handshake complete
};

// Waits up to TIMEOUT_MS for EVENTS on FD; true if it (or a hang-up/error) came.
bool WaitFd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    int rc = poll(&p, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0 && (p.revents & (events | POLLHUP | POLLERR));
  }
}

// One non-blocking read of C's socket (plain or TLS): bytes read, 0 at EOF, -1 on an error,
// or kWouldBlock with *WANT the poll event to wait for.
constexpr ssize_t kWouldBlock = -2;
ssize_t RecvSome(Conn* c, char* buf, size_t size, short* want) {
  *want = POLLIN;
  if (!c->ssl) {
    for (;;) {
      ssize_t n = recv(c->fd, buf, size, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return kWouldBlock;
      return n;
    }
  }
  ERR_clear_error();
  const int n = c->handshaken ? SSL_read(c->ssl, buf, static_cast<int>(std::min<size_t>(size, 1 << 30)))
                              : SSL_do_handshake(c->ssl);
  if (n > 0 && !c->handshaken) {
    c->handshaken = true;
    return RecvSome(c, buf, size, want);  // the client's first request may be here already
  }
  if (n > 0) return n;
  switch (SSL_get_error(c->ssl, n)) {
    case SSL_ERROR_WANT_READ: return kWouldBlock;
    case SSL_ERROR_WANT_WRITE: *want = POLLOUT; return kWouldBlock;
    case SSL_ERROR_ZERO_RETURN: return 0;
    default: return -1;  // handshake refused (wrong protocol, bad certificate) or a broken record
  }
}

// One non-blocking write; bytes written, -1 on an error, kWouldBlock with *WANT.
ssize_t SendSome(Conn* c, const char* buf, size_t size, short* want) {
  *want = POLLOUT;
  if (!c->ssl) {
    for (;;) {
      ssize_t n = send(c->fd, buf, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return kWouldBlock;
      return n <= 0 ? -1 : n;
    }
  }
  if (!c->handshaken) return -1;
  ERR_clear_error();
  const int n = SSL_write(c->ssl, buf, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return n;
  switch (SSL_get_error(c->ssl, n)) {
    case SSL_ERROR_WANT_READ: *want = POLLIN; return kWouldBlock;
    case SSL_ERROR_WANT_WRITE: return kWouldBlock;
    default: return -1;
  }
}

// A short reply on the event thread (431, 408): one attempt, never waits.
void SendBestEffort(Conn* c, const char* msg, size_t len) {
  short want;
  (void)SendSome(c, msg, len, &want);
}

bool HeaderComplete(const Conn& c) {
  const std::string_view v(c.buf.data() + c.pos, c.buf.size() - c.pos);
  return v.find("\r\n\r\n") != std::string_view::npos || v.find("\n\n") != std::string_view::npos;
}

}  // namespace

size_t EscapeExtraQueryMarks(std::string* buf, size_t pos) {
  const size_t eol = buf->find('\n', pos);
  if (eol == std::string::npos) return 0;
  const size_t start = buf->find(' ', pos);  // METHOD SP target SP version
  const size_t end = buf->rfind(' ', eol);
  if (start == std::string::npos || end == std::string::npos || end <= start) return 0;
  const size_t first = buf->find('?', start);
  if (first == std::string::npos || first >= end) return 0;
  std::string target = buf->substr(first + 1, end - first - 1);
  size_t n = 0;
  std::string escaped;
  for (char c : target) {
    if (c == '?') escaped += "%3F", ++n;
    else escaped += c;
  }
  if (n > 0) buf->replace(first + 1, end - first - 1, escaped);
  return n;
}

namespace {

std::string AddrString(const sockaddr_storage& ss, int* port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    inet_ntop(AF_INET, &a.sin_addr, buf, sizeof(buf));
    *port = ntohs(a.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
    if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr))
      inet_ntop(AF_INET, &a.sin6_addr.s6_addr[12], buf, sizeof(buf));
    else
      inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof(buf));
    *port = ntohs(a.sin6_port);
  }
  return buf;
}

// cpp-httplib's Stream over a Conn: buffered bytes first, then the socket, each read or
// write bounded by the I/O timeout.
class ConnStream : public httplib::Stream {
 public:
  ConnStream(Conn* c, int timeout_ms) : c_(c), timeout_ms_(timeout_ms) {}
  bool is_readable() const override {
    return c_->pos < c_->buf.size() || (c_->ssl && SSL_pending(c_->ssl) > 0) || Wait(POLLIN);
  }
  bool is_writable() const override { return Wait(POLLOUT); }
  ssize_t read(char* ptr, size_t size) override {
    if (c_->pos < c_->buf.size()) {
      const size_t n = std::min(size, c_->buf.size() - c_->pos);
      memcpy(ptr, c_->buf.data() + c_->pos, n);
      c_->pos += n;
      if (c_->pos == c_->buf.size()) c_->buf.clear(), c_->pos = 0;
      return static_cast<ssize_t>(n);
    }
    for (;;) {
      short want;
      const ssize_t n = RecvSome(c_, ptr, size, &want);
      if (n > 0) ArmQuickAck(c_->fd);  // a client with Nagle on must not wait for our delayed ACK
      if (n != kWouldBlock) return n;
      if (!Wait(want)) return -1;
    }
  }
  ssize_t write(const char* ptr, size_t size) override {
    size_t done = 0;
    while (done < size) {
      short want;
      const ssize_t n = SendSome(c_, ptr + done, size - done, &want);
      if (n == kWouldBlock) {
        if (!Wait(want)) return -1;
        continue;
      }
      if (n <= 0) return -1;
      done += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    port = 0;
    ip = getpeername(c_->fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 ? AddrString(ss, &port) : "";
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    port = 0;
    ip = getsockname(c_->fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 ? AddrString(ss, &port) : "";
  }
  socket_t socket() const override { return c_->fd; }

 private:
  bool Wait(short events) const { return WaitFd(c_->fd, events, timeout_ms_); }
  Conn* c_;
  int timeout_ms_;
};

void CloseConn(Conn* c) {
  if (c->ssl) {
    if (c->handshaken) SSL_shutdown(c->ssl);  // close_notify, best effort (non-blocking)
    SSL_free(c->ssl);
  }
  shutdown(c->fd, SHUT_RDWR);
  close(c->fd);
  delete c;
}

}  // namespace

struct HttpFront::Impl {
  HttpFront* server;
  FrontOptions opt;
  int epfd = -1, wake = -1;
  std::atomic<bool> stopping{false};
  std::atomic<int> open{0};
  std::thread event_thread;
  std::vector<std::thread> workers;

  std::mutex mu;                 // guards waiting, incoming, ready, uploads
  std::map<int, Conn*> waiting;  // fd -> connection the event thread watches
  std::vector<Conn*> incoming;   // to be added to the event thread's set
  std::deque<Conn*> ready;       // complete headers without a body, for the workers
  std::deque<Conn*> uploads;     // complete headers of requests with a body (POST/PUT/PATCH)
  int uploads_running = 0;       // a slow upload holds its worker: they never get them all
  bool upload_turn = false;
  std::condition_variable ready_cv;

  int MaxUploads() const { return std::max(1, opt.workers - std::max(1, opt.workers / 4)); }
  bool CanTake() const {
    return !ready.empty() || (!uploads.empty() && uploads_running < MaxUploads());
  }

  void Wake() {
    uint64_t one = 1;
    (void)!::write(wake, &one, sizeof(one));  // eventfd: cannot fail short of overflow
  }

  // Hands C to the event thread (from the accept thread or a worker).
  void Park(Conn* c) {
    {
      std::lock_guard<std::mutex> lk(mu);
      incoming.push_back(c);
    }
    Wake();
  }

  void Dispatch(Conn* c) {
    const std::string_view head(c->buf.data() + c->pos, std::min<size_t>(8, c->buf.size() - c->pos));
    const bool upload = head.rfind("POST ", 0) == 0 || head.rfind("PUT ", 0) == 0 || head.rfind("PATCH ", 0) == 0;
    {
      std::lock_guard<std::mutex> lk(mu);
      (upload ? uploads : ready).push_back(c);
    }
    ready_cv.notify_one();
  }

  void Drop(Conn* c) {
    CloseConn(c);
    --open;
  }

  // Reads what the socket has; false if the connection is finished (closed or over limits).
  bool Fill(Conn* c) {
    char buf[16384];
    for (;;) {
      short want;
      const ssize_t n = RecvSome(c, buf, sizeof(buf), &want);
      if (n > 0) {
        ArmQuickAck(c->fd);
        if (!c->in_request) {
          c->in_request = true;
          c->deadline = Clock::now() + std::chrono::seconds(opt.header_timeout_s);
        }
        c->buf.append(buf, static_cast<size_t>(n));
        if (c->buf.size() - c->pos > opt.max_header_bytes && !HeaderComplete(*c)) {
          static const char k431[] =
              "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
          SendBestEffort(c, k431, sizeof(k431) - 1);
          return false;
        }
        if (HeaderComplete(*c)) return true;
        continue;
      }
      if (n != kWouldBlock) return false;  // EOF or error (a refused TLS handshake too)
      if (want == POLLIN) return true;     // epoll tells us when more comes
      // TLS wants to write (handshake or key update) into a full send buffer: rare, brief.
      if (!WaitFd(c->fd, POLLOUT, 100)) return false;
    }
  }

  void EventLoop() {
    std::vector<epoll_event> evs(256);
    while (!stopping) {
      {
        std::vector<Conn*> add;
        {
          std::lock_guard<std::mutex> lk(mu);
          add.swap(incoming);
        }
        for (Conn* c : add) {
          // Bytes TLS decrypted already wake no epoll: read them now.
          if (c->ssl && c->handshaken && SSL_pending(c->ssl) > 0 && !HeaderComplete(*c) && !Fill(c)) {
            Drop(c);
            continue;
          }
          if (HeaderComplete(*c)) {  // a pipelined request is already here
            Dispatch(c);
            continue;
          }
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.fd = c->fd;
          if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            Drop(c);
            continue;
          }
          std::lock_guard<std::mutex> lk(mu);
          waiting[c->fd] = c;
        }
      }
      int n = epoll_wait(epfd, evs.data(), static_cast<int>(evs.size()), 200);
      for (int i = 0; i < n; ++i) {
        if (evs[i].data.fd == wake) {
          uint64_t v;
          (void)!::read(wake, &v, sizeof(v));
          continue;
        }
        Conn* c = nullptr;
        {
          std::lock_guard<std::mutex> lk(mu);
          auto it = waiting.find(evs[i].data.fd);
          if (it == waiting.end()) continue;
          c = it->second;
        }
        const bool alive = Fill(c);
        if (alive && !HeaderComplete(*c)) continue;
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
        {
          std::lock_guard<std::mutex> lk(mu);
          waiting.erase(c->fd);
        }
        if (alive)
          Dispatch(c);
        else
          Drop(c);
      }
      // Deadlines: a header too slow, or a keep-alive connection idle too long.
      const auto now = Clock::now();
      std::vector<Conn*> expired;
      {
        std::lock_guard<std::mutex> lk(mu);
        for (auto it = waiting.begin(); it != waiting.end();) {
          if (it->second->deadline <= now) {
            expired.push_back(it->second);
            it = waiting.erase(it);
          } else {
            ++it;
          }
        }
      }
      for (Conn* c : expired) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
        if (c->in_request) {
          static const char k408[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
          SendBestEffort(c, k408, sizeof(k408) - 1);
        }
        Drop(c);
      }
    }
  }

  void WorkerLoop() {
    for (;;) {
      Conn* c = nullptr;
      bool upload = false;
      {
        std::unique_lock<std::mutex> lk(mu);
        ready_cv.wait(lk, [&] { return stopping || CanTake(); });
        if (!CanTake()) return;
        // Alternate between the queues so neither reads nor uploads starve the other.
        const bool can_upload = !uploads.empty() && uploads_running < MaxUploads();
        upload = can_upload && (ready.empty() || (upload_turn = !upload_turn));
        std::deque<Conn*>& q = upload ? uploads : ready;
        c = q.front();
        q.pop_front();
        if (upload) ++uploads_running;
      }
      EscapeExtraQueryMarks(&c->buf, c->pos);
      ConnStream stream(c, opt.io_timeout_s * 1000);
      const bool last = ++c->served >= opt.keep_alive_max || stopping;
      bool closed = false;
      const bool ok = server->process_request(stream, last, closed, nullptr);
      if (upload) {
        {
          std::lock_guard<std::mutex> lk(mu);
          --uploads_running;
        }
        ready_cv.notify_all();
      }
      if (!ok || closed || last) {
        Drop(c);
        continue;
      }
      c->in_request = false;
      c->deadline = Clock::now() + std::chrono::seconds(opt.keep_alive_timeout_s);
      if (c->pos >= c->buf.size())
        c->buf.clear(), c->pos = 0;
      else if (HeaderComplete(*c))
        c->in_request = true;
      Park(c);
    }
  }
};

HttpFront::HttpFront(FrontOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->server = this;
  impl_->opt = options;
  // The accept thread only parks each connection with the event thread: run that inline.
  struct Inline : httplib::TaskQueue {
    void enqueue(std::function<void()> fn) override { fn(); }
    void shutdown() override {}
  };
  new_task_queue = [] { return new Inline(); };
  keep_alive_max_count_ = static_cast<size_t>(options.keep_alive_max);
  keep_alive_timeout_sec_ = options.keep_alive_timeout_s;
}

HttpFront::~HttpFront() { StopFront(); }

void HttpFront::StartFront() {
  impl_->epfd = epoll_create1(EPOLL_CLOEXEC);
  impl_->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = impl_->wake;
  epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, impl_->wake, &ev);
  impl_->event_thread = std::thread([this] { impl_->EventLoop(); });
  for (int i = 0; i < std::max(1, impl_->opt.workers); ++i)
    impl_->workers.emplace_back([this] { impl_->WorkerLoop(); });
}

void HttpFront::StopFront() {
  if (!impl_ || impl_->epfd < 0) return;
  impl_->stopping = true;
  impl_->Wake();
  impl_->ready_cv.notify_all();
  if (impl_->event_thread.joinable()) impl_->event_thread.join();
  for (auto& t : impl_->workers)
    if (t.joinable()) t.join();
  impl_->workers.clear();
  std::lock_guard<std::mutex> lk(impl_->mu);
  for (auto& [fd, c] : impl_->waiting) CloseConn(c);
  for (Conn* c : impl_->incoming) CloseConn(c);
  for (Conn* c : impl_->ready) CloseConn(c);
  for (Conn* c : impl_->uploads) CloseConn(c);
  impl_->uploads.clear();
  impl_->waiting.clear();
  impl_->incoming.clear();
  impl_->ready.clear();
  close(impl_->epfd);
  close(impl_->wake);
  impl_->epfd = impl_->wake = -1;
}

bool HttpFront::process_and_close_socket(socket_t sock) {
  if (impl_->stopping || impl_->open >= impl_->opt.max_connections) {
    shutdown(sock, SHUT_RDWR);
    close(sock);
    return false;
  }
  SSL* ssl = nullptr;
  if (impl_->opt.tls) {
    // TLS reads may not block the event thread: the socket itself is non-blocking.
    const int flags = fcntl(sock, F_GETFL);
    ssl = SSL_new(impl_->opt.tls);
    if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) != 0 || !ssl || SSL_set_fd(ssl, sock) != 1) {
      if (ssl) SSL_free(ssl);
      shutdown(sock, SHUT_RDWR);
      close(sock);
      return false;
    }
    SSL_set_accept_state(ssl);
  }
  ++impl_->open;
  auto* c = new Conn;
  c->fd = sock;
  c->ssl = ssl;
  c->deadline = Clock::now() + std::chrono::seconds(impl_->opt.header_timeout_s);
  c->in_request = true;  // a new connection owes its first header within the header timeout
  impl_->Park(c);
  return true;
}

}  // namespace strata::web
