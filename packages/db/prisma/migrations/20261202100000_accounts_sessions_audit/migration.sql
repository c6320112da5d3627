-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "deactivatedAt" DATETIME
);

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tokenHash" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME NOT NULL,
    "revokedAt" DATETIME,
    "ip" TEXT,
    "userAgent" TEXT,
    CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "expiresAt" DATETIME,
    "revokedAt" DATETIME,
    CONSTRAINT "ApiToken_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Invite" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tokenHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "email" TEXT,
    "createdById" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME NOT NULL,
    "usedAt" DATETIME,
    "usedById" TEXT,
    "revokedAt" DATETIME,
    CONSTRAINT "Invite_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Invite_usedById_fkey" FOREIGN KEY ("usedById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AuditEntry" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorId" TEXT,
    "actorEmail" TEXT,
    "action" TEXT NOT NULL,
    "targetType" TEXT,
    "targetId" TEXT,
    "detail" TEXT NOT NULL DEFAULT '{}',
    "ip" TEXT
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "FailureGroup" (
    "fingerprint" TEXT NOT NULL PRIMARY KEY,
    "state" TEXT NOT NULL DEFAULT 'open',
    "note" TEXT,
    "resolvedAt" DATETIME,
    "resolvedById" TEXT,
    "updatedAt" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Upload" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sha256" TEXT NOT NULL,
    "originalName" TEXT,
    "format" TEXT NOT NULL,
    "sampleRate" INTEGER NOT NULL,
    "channels" INTEGER NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "warnings" TEXT NOT NULL DEFAULT '[]',
    "originalPath" TEXT NOT NULL,
    "pcmPath" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uploadedById" TEXT,
    CONSTRAINT "Upload_uploadedById_fkey" FOREIGN KEY ("uploadedById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Upload" ("channels", "createdAt", "durationMs", "format", "id", "originalName", "originalPath", "pcmPath", "sampleRate", "sha256", "sizeBytes", "warnings") SELECT "channels", "createdAt", "durationMs", "format", "id", "originalName", "originalPath", "pcmPath", "sampleRate", "sha256", "sizeBytes", "warnings" FROM "Upload";
DROP TABLE "Upload";
ALTER TABLE "new_Upload" RENAME TO "Upload";
CREATE UNIQUE INDEX "Upload_sha256_key" ON "Upload"("sha256");
CREATE INDEX "Upload_uploadedById_createdAt_idx" ON "Upload"("uploadedById", "createdAt");
CREATE TABLE "new_Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "parentId" TEXT,
    "mode" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "promptUploadId" TEXT,
    "promptText" TEXT,
    "instruct" TEXT,
    "speakerId" TEXT,
    "speed" REAL NOT NULL DEFAULT 1,
    "seed" INTEGER NOT NULL,
    "createdById" TEXT,
    "canceledById" TEXT,
    "engineId" TEXT NOT NULL,
    "engineKind" TEXT NOT NULL DEFAULT 'builtin',
    "engineVersion" TEXT NOT NULL,
    "deterministic" BOOLEAN NOT NULL DEFAULT true,
    "status" TEXT NOT NULL,
    "stage" TEXT,
    "stageIndex" INTEGER,
    "stageCount" INTEGER,
    "progressStep" INTEGER,
    "progressTotal" INTEGER,
    "progressPct" REAL,
    "etaMs" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "queuedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "errorHint" TEXT,
    "failureFingerprint" TEXT,
    "reviewNote" TEXT,
    "parentRelation" TEXT,
    "outputPath" TEXT,
    "outputSampleRate" INTEGER,
    "outputDurationMs" INTEGER,
    "outputSha256" TEXT,
    "outputBytes" INTEGER,
    "lastSeq" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "Job_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Job" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Job_promptUploadId_fkey" FOREIGN KEY ("promptUploadId") REFERENCES "Upload" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Job_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Job_canceledById_fkey" FOREIGN KEY ("canceledById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Job" ("attempts", "cancelRequested", "createdAt", "deterministic", "engineId", "engineKind", "engineVersion", "errorCode", "errorHint", "errorMessage", "etaMs", "finishedAt", "id", "instruct", "lastSeq", "mode", "outputBytes", "outputDurationMs", "outputPath", "outputSampleRate", "outputSha256", "parentId", "progressPct", "progressStep", "progressTotal", "promptText", "promptUploadId", "queuedAt", "seed", "speakerId", "speed", "stage", "stageCount", "stageIndex", "startedAt", "status", "text", "updatedAt") SELECT "attempts", "cancelRequested", "createdAt", "deterministic", "engineId", "engineKind", "engineVersion", "errorCode", "errorHint", "errorMessage", "etaMs", "finishedAt", "id", "instruct", "lastSeq", "mode", "outputBytes", "outputDurationMs", "outputPath", "outputSampleRate", "outputSha256", "parentId", "progressPct", "progressStep", "progressTotal", "promptText", "promptUploadId", "queuedAt", "seed", "speakerId", "speed", "stage", "stageCount", "stageIndex", "startedAt", "status", "text", "updatedAt" FROM "Job";
DROP TABLE "Job";
ALTER TABLE "new_Job" RENAME TO "Job";
CREATE INDEX "Job_status_id_idx" ON "Job"("status", "id");
CREATE INDEX "Job_status_queuedAt_id_idx" ON "Job"("status", "queuedAt", "id");
CREATE INDEX "Job_parentId_idx" ON "Job"("parentId");
CREATE INDEX "Job_createdById_id_idx" ON "Job"("createdById", "id");
CREATE INDEX "Job_failureFingerprint_finishedAt_idx" ON "Job"("failureFingerprint", "finishedAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "Session_tokenHash_key" ON "Session"("tokenHash");

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- CreateIndex
CREATE INDEX "ApiToken_userId_idx" ON "ApiToken"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Invite_tokenHash_key" ON "Invite"("tokenHash");

-- CreateIndex
CREATE INDEX "AuditEntry_at_idx" ON "AuditEntry"("at");

-- CreateIndex
CREATE INDEX "AuditEntry_actorId_at_idx" ON "AuditEntry"("actorId", "at");

-- CreateIndex
CREATE INDEX "AuditEntry_action_at_idx" ON "AuditEntry"("action", "at");
