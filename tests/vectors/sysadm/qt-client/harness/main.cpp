// Console harness for the SysAdm reference client core (trueos/sysadm-ui-qt,
// src-qt5/Core/sysadm-client.{h,cpp}), which is compiled unpatched next to this file.
//
// It does only what the client's own GUI does with the class: register for the three event
// types, openConnection(user, password, host), and then let the class run by itself (identify,
// auth, subscriptions, its 90 s keepalive, its reconnect 60 s after a lost connection). Every
// signal the class emits is printed as one line on stdout, with the seconds since start.
//
// usage: qt-harness HOST:PORT USER RUN_SECONDS
//   password: environment variable SYSADM_PASSWORD (never printed)
//   after RUN_SECONDS the harness calls closeConnection() (the client's logout: auth_clear,
//   then a websocket close) and exits 2 s later.
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QSslConfiguration>
#include <QTimer>
#include <cstdio>
#include <cstdlib>

#include "sysadm-client.h"

// Globals that the client core declares extern (the GUI defines them in its main.cpp).
// No client certificate is loaded, so SSL_cfg stays null and certificate login is not used.
QSettings *settings = nullptr;
QSslConfiguration SSL_cfg, SSL_cfg_bridge;

static QElapsedTimer clock_;

static void say(const QString &what) {
  std::printf("%8.3f %s\n", clock_.elapsed() / 1000.0, what.toUtf8().constData());
  std::fflush(stdout);
}

static QString json(const QJsonValue &v) {
  if (v.isObject()) return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
  if (v.isArray()) return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
  if (v.isString()) return "\"" + v.toString() + "\"";
  return v.toVariant().toString();
}

int main(int argc, char **argv) {
  QCoreApplication app(argc, argv);
  clock_.start();
  if (argc != 4) {
    std::fprintf(stderr, "usage: qt-harness HOST:PORT USER RUN_SECONDS (password in SYSADM_PASSWORD)\n");
    return 2;
  }
  const QString host = QString::fromLocal8Bit(argv[1]);
  const QString user = QString::fromLocal8Bit(argv[2]);
  const int runSecs = QString::fromLocal8Bit(argv[3]).toInt();
  const QString pass = QString::fromLocal8Bit(qgetenv("SYSADM_PASSWORD"));

  sysadm_client client;
  QObject::connect(&client, &sysadm_client::clientConnected, [] { say("signal clientConnected"); });
  QObject::connect(&client, &sysadm_client::clientAuthorized, [] { say("signal clientAuthorized"); });
  QObject::connect(&client, &sysadm_client::clientUnauthorized, [] { say("signal clientUnauthorized"); });
  QObject::connect(&client, &sysadm_client::clientDisconnected, [] { say("signal clientDisconnected"); });
  QObject::connect(&client, &sysadm_client::clientTypeChanged, [] { say("signal clientTypeChanged"); });
  QObject::connect(&client, &sysadm_client::statePriorityChanged,
                   [](int p) { say(QString("signal statePriorityChanged %1").arg(p)); });
  // The class emits newReply(id, name, namespace, args): its own argument order.
  QObject::connect(&client, &sysadm_client::newReply,
                   [](QString id, QString a, QString b, QJsonValue args) {
                     say(QString("signal newReply id=%1 %2 %3 args=%4").arg(id, a, b, json(args)));
                   });
  QObject::connect(&client, &sysadm_client::NewEvent,
                   [](sysadm_client::EVENT_TYPE t, QJsonValue args) {
                     say(QString("signal NewEvent type=%1 args=%2").arg(int(t)).arg(json(args)));
                   });
  // Count clientReconnecting (emitted every second while a connection attempt is pending).
  int reconnecting = 0;
  QObject::connect(&client, &sysadm_client::clientReconnecting, [&reconnecting] { ++reconnecting; });

  // What the GUI does: register for the events it shows (system-state is pre-registered).
  client.registerForEvents(sysadm_client::DISPATCHER);
  client.registerForEvents(sysadm_client::LIFEPRESERVER);
  say(QString("openConnection host=%1 user=%2").arg(host, user));
  client.openConnection(user, pass, host);

  QTimer::singleShot(runSecs * 1000, [&] {
    say(QString("closeConnection (clientReconnecting seen %1 times, ready=%2)")
            .arg(reconnecting).arg(client.isReady()));
    client.closeConnection();
    QTimer::singleShot(2000, &app, &QCoreApplication::quit);
  });
  return app.exec();
}
