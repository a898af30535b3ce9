; Inno Setup script: a per-user installer for the PyInstaller folder (claude-pulse.spec).
;
;   iscc /DAppVersion=0.1.0 packaging\windows\claude-pulse.iss     (after pyinstaller)
;
; No admin rights: it installs into %LOCALAPPDATA%\Programs\Claude Pulse, adds a Start-menu
; shortcut that carries the app's AppUserModelID (ClaudePulse, the id its notifications use, so
; Windows shows them under the shortcut's name and icon), and an "Installed apps" entry whose
; uninstaller first runs `claude-pulse.exe uninstall` (start at login, the notification
; registration; with --purge also the home folder, if the user says so) and then removes the
; files. tests/test_windows_build.py checks the fields that matter.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define AppName "Claude Pulse"
#define AppUserModelID "ClaudePulse"
#define Dist "..\..\dist\claude-pulse"
; PyInstaller's work folder for claude-pulse.spec, where the spec wrote the .ico.
#define Build "..\..\build\claude-pulse"

[Setup]
; Never change AppId: it is how an upgrade finds the installed copy.
AppId={{486CFF60-F569-4A39-B547-EEE8B16F3AC9}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Claude Pulse contributors
PrivilegesRequired=lowest
DefaultDirName={localappdata}\Programs\{#AppName}
DisableDirPage=yes
DisableProgramGroupPage=yes
DisableReadyPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; An upgrade closes a running tray app first (Restart Manager); uninstall asks it to quit
; through `claude-pulse.exe uninstall`.
CloseApplications=yes
RestartApplications=no
SetupIconFile={#Build}\claude-pulse.ico
UninstallDisplayIcon={app}\claude-pulse-tray.exe
UninstallDisplayName={#AppName}
LicenseFile=..\..\LICENSE
OutputDir=..\..\dist
OutputBaseFilename=claude-pulse-setup-{#AppVersion}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Files]
Source: "{#Dist}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{userprograms}\{#AppName}"; Filename: "{app}\claude-pulse-tray.exe"; \
  AppUserModelID: "{#AppUserModelID}"; IconFilename: "{app}\claude-pulse-tray.exe"; \
  Comment: "Claude Pro/Max usage limits in the system tray"

[Run]
Filename: "{app}\claude-pulse-tray.exe"; Description: "Start {#AppName}"; \
  Flags: nowait postinstall skipifsilent

[UninstallRun]
; Before the files go: the app removes what it put outside this folder (and quits if running).
Filename: "{app}\claude-pulse.exe"; Parameters: "{code:UninstallArguments}"; \
  Flags: runhidden waituntilterminated; RunOnceId: "ClaudePulseUninstall"

[Code]
var
  Purge: Boolean;

function InitializeUninstall(): Boolean;
begin
  Purge := False;
  if not UninstallSilent() then
    Purge := MsgBox('Also delete your Claude Pulse settings, login and usage history ' +
      '(the .claude-pulse folder in your user profile)?', mbConfirmation, MB_YESNO) = IDYES;
  Result := True;
end;

function UninstallArguments(Param: String): String;
begin
  if Purge then
    Result := 'uninstall --purge --yes'
  else
    Result := 'uninstall';
end;
