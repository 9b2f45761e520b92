// qtverify PORT [options] (or qtverify --version)
//
// Connects one QSslSocket to 127.0.0.1:PORT and prints, in emission
// order, every peerVerifyError, the sslErrors list, the OCSP responses and the
// outcome. Options:
//   --ca FILE        trust exactly the certificates in FILE (setCaCertificates)
//   --addca FILE     sslConfiguration().addCaCertificates(FILE) on the socket
//   --adddefault F   QSslConfiguration::defaultConfiguration().addCaCertificates(F),
//                    setDefaultConfiguration, then use the default configuration
//   --name NAME      peer verify name (connectToHostEncrypted(host, port, NAME))
//   --host HOST      host name to connect to (default localhost)
//   --ocsp           setOcspStaplingEnabled(true)
//   --ignore         ignoreSslErrors() in the sslErrors slot
//   --depth N        setPeerVerifyDepth(N)
//   --interrupt      setHandshakeMustInterruptOnError(true); the slot continues
#include <QCoreApplication>
#include <QMetaEnum>
#include <QOcspResponse>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTimer>
#include <cstdio>

static QByteArray err(const QSslError &e)
{
    const char *name = QMetaEnum::fromType<QSslError::SslError>().valueToKey(e.error());
    QString who = e.certificate().isNull() ? QStringLiteral("null")
                                           : e.certificate().subjectDisplayName();
    return QByteArray(name ? name : "?") + "@" + who.toUtf8() + " \"" + e.errorString().toUtf8() + "\"";
}

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments();
    quint16 port = args.value(1).toUShort();
    QString ca, addCa, addDefault, name, host = "localhost";
    bool ocsp = false, ignore = false, interrupt = false;
    int depth = -1;
    for (int i = 2; i < args.size(); ++i) {
        const QString a = args[i];
        if (a == "--ca") ca = args.value(++i);
        else if (a == "--addca") addCa = args.value(++i);
        else if (a == "--adddefault") addDefault = args.value(++i);
        else if (a == "--name") name = args.value(++i);
        else if (a == "--host") host = args.value(++i);
        else if (a == "--ocsp") ocsp = true;
        else if (a == "--ignore") ignore = true;
        else if (a == "--interrupt") interrupt = true;
        else if (a == "--depth") depth = args.value(++i).toInt();
    }
    printf("Qt %s, %s\n", qVersion(), qPrintable(QSslSocket::sslLibraryVersionString()));
    if (args.value(1) == "--version")
        return 0;
    if (!addDefault.isEmpty()) {
        auto d = QSslConfiguration::defaultConfiguration();
        printf("default CA list before: %lld\n", (long long)d.caCertificates().size());
        d.addCaCertificates(QSslCertificate::fromPath(addDefault));
        QSslConfiguration::setDefaultConfiguration(d);
        printf("default CA list after: %lld\n",
               (long long)QSslConfiguration::defaultConfiguration().caCertificates().size());
    }
    QSslSocket s;
    auto cfg = s.sslConfiguration();
    if (!ca.isEmpty())
        cfg.setCaCertificates(QSslCertificate::fromPath(ca));
    if (!addCa.isEmpty())
        cfg.addCaCertificates(QSslCertificate::fromPath(addCa));
    if (ocsp)
        cfg.setOcspStaplingEnabled(true);
    if (depth >= 0)
        cfg.setPeerVerifyDepth(depth);
    if (interrupt)
        cfg.setHandshakeMustInterruptOnError(true);
    s.setSslConfiguration(cfg);
    QObject::connect(&s, &QSslSocket::handshakeInterruptedOnError, [&](const QSslError &e) {
        printf("interrupted %s\n", err(e).constData());
        s.continueInterruptedHandshake();
    });
    QObject::connect(&s, &QSslSocket::peerVerifyError, [](const QSslError &e) {
        printf("pVE %s\n", err(e).constData());
    });
    QObject::connect(&s, &QSslSocket::sslErrors, [&](const QList<QSslError> &l) {
        printf("sslErrors [");
        for (const auto &e : l) printf(" %s;", err(e).constData());
        printf(" ]\n");
        if (ignore) s.ignoreSslErrors();
    });
    QObject::connect(&s, &QSslSocket::errorOccurred, [&](QAbstractSocket::SocketError e) {
        printf("errorOccurred %d \"%s\"\n", int(e), qPrintable(s.errorString()));
    });
    auto dumpOcsp = [&]() {
        for (const auto &r : s.ocspResponses())
            printf("ocsp status=%d reason=%d subject=%s responder=%s\n", int(r.certificateStatus()),
                   int(r.revocationReason()), qPrintable(r.subject().subjectDisplayName()),
                   r.responder().isNull() ? "null" : qPrintable(r.responder().subjectDisplayName()));
    };
    QObject::connect(&s, &QSslSocket::encrypted, [&]() {
        printf("encrypted; handshake errors %lld\n", (long long)s.sslHandshakeErrors().size());
        dumpOcsp();
        s.disconnectFromHost();
    });
    QObject::connect(&s, &QSslSocket::disconnected, [&]() {
        printf("disconnected\n");
        if (!s.isEncrypted()) dumpOcsp();
        QTimer::singleShot(100, &app, &QCoreApplication::quit);
    });
    QTimer::singleShot(8000, &app, [&]() { printf("timeout\n"); app.quit(); });
    if (name.isEmpty())
        s.connectToHostEncrypted(host, port);
    else
        s.connectToHostEncrypted(host, port, name);
    int rc = app.exec();
    fflush(stdout);
    return rc;
}
